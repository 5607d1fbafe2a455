"""The in-memory account pool: which account serves the next request. Pure, no IO.

This is the simple scheduler: a rotation over the usable accounts, skipping the ones a request
already tried. It deliberately knows nothing about cooldowns, quota or stickiness yet.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from .store import Account


class Pool:
    def __init__(self, accounts: Iterable[Account] = ()) -> None:
        self._accounts: tuple[Account, ...] = ()
        self._turn = 0
        self.replace(accounts)

    def replace(self, accounts: Iterable[Account]) -> None:
        """Swap in a new set of accounts (after a reload from disk)."""
        self._accounts = tuple(sorted(accounts, key=lambda a: a.email))

    def update(self, account: Account) -> None:
        """Put back an account whose state changed (new token, disabled...)."""
        self._accounts = tuple(account if a.email == account.email else a for a in self._accounts)

    @property
    def accounts(self) -> tuple[Account, ...]:
        return self._accounts

    def usable(self) -> list[Account]:
        return [a for a in self._accounts if a.is_usable]

    def pick(self, *, tried: Collection[str] = ()) -> Account | None:
        """The next usable account in rotation that this request has not tried yet."""
        candidates = [a for a in self.usable() if a.email not in tried]
        if not candidates:
            return None
        chosen = candidates[self._turn % len(candidates)]
        self._turn += 1
        return chosen

    def offered_models(self) -> set[str]:
        """Every model id some usable account's quota snapshot lists."""
        return {name for a in self.usable() for name in a.quota.models}
