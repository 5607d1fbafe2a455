"""Which accounts a scheduled warmup should wake, and for which models. Pure.

A model whose quota is full (remaining >= FULL) has no quota window running: one tiny request
starts it, so it resets sooner, as Antigravity Tools' scheduler does (docs/upstream.md §11.4).
Each (account, model) is warmed at most once per interval; accounts not offering the model,
disabled or flagged ones are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .store import Account

FULL = 0.999


def due(
    accounts: Iterable[Account],
    models: Iterable[str],
    *,
    now: float,
    interval: float,
    last: Mapping[tuple[str, str], float],
) -> list[tuple[str, str]]:
    """(email, model) pairs to warm now; `last` holds when each pair was last warmed."""
    wanted = list(models)
    pairs = []
    for account in accounts:
        if not account.is_usable:
            continue
        for model in wanted:
            quota = account.quota.models.get(model)
            if quota is None or quota.remaining_fraction < FULL:
                continue
            if now - last.get((account.email, model), -interval) >= interval:
                pairs.append((account.email, model))
    return pairs
