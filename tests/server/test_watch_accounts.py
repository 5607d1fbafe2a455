"""The account-file watcher: edits made outside the server reach the pool, and a file read
before the gateway changed an account does not undo that change."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from msgspec.structs import replace

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
