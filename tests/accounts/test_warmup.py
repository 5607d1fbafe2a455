"""Which (account, model) pairs a scheduled warmup wakes."""

from __future__ import annotations

from antigravity_gateway.accounts.store import Account, ModelQuota, Quota
from antigravity_gateway.accounts.warmup import due


def account(email: str, fraction: float, **more: object) -> Account:
    quota = Quota(models={"m": ModelQuota(remaining_fraction=fraction)}, fetched_at=1.0)
    return Account(id=email, email=email, refresh_token="rt", quota=quota, **more)  # type: ignore[arg-type]


def test_only_full_quotas_once_per_interval() -> None:
    accounts = [account("a", 1.0), account("b", 0.5), account("c", 1.0, disabled=True)]
    assert due(accounts, ["m", "other"], now=100.0, interval=60.0, last={}) == [("a", "m")]
    assert due(accounts, ["m"], now=100.0, interval=60.0, last={("a", "m"): 50.0}) == []
    assert due(accounts, ["m"], now=111.0, interval=60.0, last={("a", "m"): 50.0}) == [("a", "m")]
