"""AccountStore: round trip, private files, corrupt files skipped, lookups."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from msgspec.structs import replace

from antigravity_gateway.accounts.store import (
    Account,
    AccountStore,
    ModelQuota,
    Quota,
    is_usable,
)


def make(email: str = "a@example.com", **kw: object) -> Account:
    base = Account(id=email.split("@")[0] + "-id", email=email, refresh_token="1//r",
                   access_token="ya29.x", expires_at=1000.5, project_id="p-1", tier="free-tier",
                   created_at=10.0)
    return replace(base, **kw)


def test_round_trip_and_private_modes(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    quota = Quota(models={"gemini-3-flash": ModelQuota(remaining_fraction=0.78,
                                                        reset_time="2026-01-08T17:00:00Z",
                                                        max_output_tokens=65536)},
                  forwarding={"old": "new"}, fetched_at=5.0)
    account = make(quota=quota)
    store.save(account)
    path = tmp_path / "accounts" / "a-id.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.load_all() == [account]
    assert store.get("a-id") == account
    assert store.load_all()[0].quota.models["gemini-3-flash"].percentage == 78
    assert sorted(p.name for p in path.parent.iterdir()) == ["a-id.json"]


def test_lookup_by_id_or_email_case_insensitive(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    a, b = make("a@example.com"), make("B@Example.com", created_at=20.0)
    store.save(a)
    store.save(b)
    assert store.by_email("b@example.COM") == b
    assert store.get("A@EXAMPLE.COM") == a
    assert store.get("nobody@example.com") is None
    assert [x.email for x in store.load_all()] == ["a@example.com", "B@Example.com"]


def test_save_overwrites(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    store.save(make())
    store.save(make(disabled=True, disabled_reason="manual"))
    (only,) = store.load_all()
    assert only.disabled and only.disabled_reason == "manual"


def test_remove(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    store.save(make())
    assert store.remove("a@example.com") is not None
    assert store.load_all() == []
    assert store.remove("a@example.com") is None


def test_corrupt_files_are_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = AccountStore(tmp_path)
    store.save(make())
    (tmp_path / "accounts" / "broken.json").write_text("{not json")
    (tmp_path / "accounts" / "empty.json").write_text("")
    (tmp_path / "accounts" / "wrong.json").write_text('{"email": 1}')
    (tmp_path / "accounts" / ".x.json.abc.tmp").write_text("partial")
    with caplog.at_level(logging.WARNING):
        assert [a.email for a in store.load_all()] == ["a@example.com"]
    assert caplog.text.count("skipping unreadable account file") == 3
    assert store.get("broken") is None


def test_missing_directory_is_empty(tmp_path: Path) -> None:
    assert AccountStore(tmp_path / "nothing").load_all() == []


def test_unknown_fields_are_tolerated(tmp_path: Path) -> None:
    (tmp_path / "accounts").mkdir()
    (tmp_path / "accounts" / "x.json").write_text(
        '{"id": "x", "email": "x@example.com", "refresh_token": "r", "future_field": 1}')
    (account,) = AccountStore(tmp_path).load_all()
    assert account.email == "x@example.com" and account.quota == Quota()


def test_bad_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        AccountStore(tmp_path).save(make(id="../escape"))


def test_is_usable() -> None:
    assert is_usable(make()) and make().is_usable
    assert not is_usable(make(disabled=True))
    assert not is_usable(make(refresh_token=""))


def test_percentage_bounds() -> None:
    assert ModelQuota(remaining_fraction=0.999).percentage == 99
    assert ModelQuota().percentage == 0
    assert ModelQuota(remaining_fraction=1.0).percentage == 100


def test_update_upsert_and_remove_under_the_lock(tmp_path: Path) -> None:
    store = AccountStore(tmp_path)
    assert store.update("a-id", lambda a: replace(a, tier="x")) is None
    assert not (tmp_path / "accounts" / "a-id.json").exists()
    created, new = store.upsert("a@example.com", lambda existing: existing or make())
    assert new and created == make()
    again, new = store.upsert("A@EXAMPLE.com", lambda existing: replace(existing or make(),
                                                                        tier="pro"))
    assert not new and again.id == created.id and store.load_all() == [again]
    updated = store.update("a-id", lambda a: replace(a, tier="ultra"))
    assert updated is not None and updated.tier == "ultra"
    assert store.remove("a@example.com") == replace(again, tier="ultra")
    assert store.load_all() == [] and (tmp_path / "accounts" / ".lock").exists()
