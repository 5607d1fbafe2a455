"""`agm accounts list` shows what the pool knows: cooling, needs verification, disabled;
`agm accounts enable` brings a flagged account back."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from antigravity_gateway import cli
from antigravity_gateway.accounts.pool import ANY_MODEL, Cooldown
from antigravity_gateway.accounts.state import load_cooldowns, save_cooldowns, state_path
from antigravity_gateway.accounts.store import Account, AccountStore

URL = "https://accounts.google.com/signin/continue?plt=FAKE"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    store = AccountStore(tmp_path)
    for n, extra in enumerate([
        {},
        {"needs_verification": True, "verification_url": URL},
        {"disabled": True, "disabled_reason": "invalid_grant: revoked"},
        {},
    ]):
        store.save(Account(id=f"id-{n}", email=f"{'abcd'[n]}@example.com", refresh_token="rt",
                           created_at=float(n), **extra))
    now = time.time()
    save_cooldowns(tmp_path, [
        Cooldown(email="a@example.com", model="gemini-3-flash", until=now + 3600,
                 reason="quota_exhausted"),
        Cooldown(email="a@example.com", model=ANY_MODEL, until=now + 60, reason="forbidden"),
        Cooldown(email="d@example.com", model="gemini-3-flash", until=now - 5, reason="old"),
    ])
    return tmp_path


def run(data_dir: Path, *args: str) -> str:
    result = CliRunner().invoke(cli.main, ["--data-dir", str(data_dir), *args],
                                catch_exceptions=False, env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_status_and_cooldowns(data_dir: Path) -> None:
    items = json.loads(run(data_dir, "accounts", "list", "--json"))
    assert [i["status"] for i in items] == ["cooling", "needs_verification", "disabled", "active"]
    assert [c["model"] for c in items[0]["cooldowns"]] == ["", "gemini-3-flash"]
    assert items[0]["cooldowns"][1]["reason"] == "quota_exhausted"
    assert items[1]["verification_url"] == URL
    assert items[3]["cooldowns"] == []  # an expired cooldown is not shown


def test_table_status(data_dir: Path) -> None:
    out = run(data_dir, "accounts", "list")
    for needle in ("cooling until", "for gemini-3-flash (quota_exhausted)", "for every model",
                   "needs verification", "disabled (invalid_grant: revoked)", "active"):
        assert needle in out, needle
    assert URL in out


def test_enable_clears_the_verification_flag(data_dir: Path) -> None:
    assert run(data_dir, "accounts", "enable", "b@example.com") == "enabled b@example.com\n"
    account = AccountStore(data_dir).by_email("b@example.com")
    assert account is not None and account.is_usable and account.verification_url == ""


def test_unreadable_state_file_is_ignored(tmp_path: Path) -> None:
    state_path(tmp_path).write_text("{not json")
    assert load_cooldowns(tmp_path) == []
    assert load_cooldowns(tmp_path / "missing") == []
