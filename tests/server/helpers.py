"""A gateway app in-process for server tests, with settings and accounts as plain values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from antigravity_gateway.accounts.store import Account, AccountStore, ModelQuota, Quota
from antigravity_gateway.settings import Settings

KEY = "sk-test-key-0123456789"


def settings_with(**sections: dict[str, Any]) -> Settings:
    """Settings from partial sections, e.g. settings_with(proxy={"auth_mode": "strict"})."""
    raw: dict[str, Any] = {"proxy": {"api_key": KEY}}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return msgspec.convert(raw, Settings)


def seed_account(
    data_dir: Path,
    email: str,
    *,
    models: tuple[str, ...] = ("gemini-3-flash",),
    refresh_token: str = "",
    access_token: str = "",
    project: str = "p-1",
    expires_at: float = 4_000_000_000.0,
) -> Account:
    account = Account(
        id=email.split("@")[0],
        email=email,
        refresh_token=refresh_token or f"rt-{email}",
        access_token=access_token,
        expires_at=expires_at,
        project_id=project,
        tier="free-tier",
        quota=Quota(models={m: ModelQuota(remaining_fraction=1.0) for m in models}),
    )
    AccountStore(data_dir).save(account)
    return account
