"""The account-file watcher: edits made outside the server reach the pool, a file read before
the gateway changed an account does not undo that change, and a failed read is tried again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from msgspec.structs import replace

from antigravity_gateway import upkeep
from antigravity_gateway.accounts.pool import Pool
from antigravity_gateway.accounts.store import Account
from antigravity_gateway.upkeep import _put_changes


def _account(email: str, **fields: Any) -> Account:
    return Account(id=email.split("@")[0], email=email, refresh_token=f"rt-{email}", **fields)


def test_a_file_edited_outside_reaches_the_pool() -> None:
    pool = Pool([_account("a@x.io", needs_verification=True)])
    copies = {a.email: a for a in pool.accounts}
    late = _put_changes(SimpleNamespace(pool=pool), {"a": "a@x.io"},  # type: ignore[arg-type]
                        [_account("a@x.io")], {"a"}, copies)
    assert late == set() and pool.get("a@x.io").is_usable  # type: ignore[union-attr]


def test_a_flag_set_while_the_files_were_read_is_kept_and_the_file_read_again() -> None:
    pool = Pool([_account("a@x.io")])
    copies = {a.email: a for a in pool.accounts}  # taken before the (slow) read
    stale = _account("a@x.io")  # what the file said when read: no flag yet
    flagged = replace(pool.get("a@x.io"), needs_verification=True)
    pool.update(flagged)  # the gateway flags it meanwhile; its save comes later
    late = _put_changes(SimpleNamespace(pool=pool), {"a": "a@x.io"},  # type: ignore[arg-type]
                        [stale], {"a"}, copies)
    assert late == {"a"}
    assert pool.get("a@x.io") is flagged and not flagged.is_usable


class _FlakyStore:
    """An account folder whose files cannot be read once, after the first time."""

    def __init__(self, directory: Path, accounts: list[Account]) -> None:
        self.dir = directory
        self._reads = 0
        self._accounts = accounts

    def load_all(self) -> list[Account]:
        self._reads += 1
        if self._reads == 2:
            raise PermissionError("the files are being rewritten")
        return [] if self._reads == 1 else self._accounts


async def test_accounts_that_could_not_be_read_are_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upkeep, "RELOAD_SECONDS", 0.01)
    pool = Pool([])
    store = _FlakyStore(tmp_path, [_account("a@x.io")])
    watching = asyncio.create_task(
        upkeep.watch_accounts(SimpleNamespace(pool=pool), store))  # type: ignore[arg-type]
    try:
        await asyncio.sleep(0.05)
        (tmp_path / "a.json").write_text("{}")  # `agm accounts add`, as the watcher sees it
        async with asyncio.timeout(5):
            while pool.get("a@x.io") is None:
                await asyncio.sleep(0.01)
    finally:
        watching.cancel()
    assert store._reads == 3  # the first read, the one that failed, the one after it
