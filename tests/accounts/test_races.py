"""Writers never race (issue #10): refresh vs remove, parallel adds of one account, stale temps.

The store's lock is an inter-process `flock`, so these run the real `agm` commands as
processes against a service refreshing in this process.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from msgspec.structs import replace

from antigravity_gateway.accounts import oauth
from antigravity_gateway.accounts.store import AccountStore
from tests.accounts.helpers import Harness
from tests.accounts.test_cli_add import write_config
from tests.fakes.cloudcode import FakeGoogle

EMAIL = "race@example.com"


def agm_process(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "antigravity_gateway", *args], text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "AGM_DATA_DIR": str(data_dir)})


async def test_remove_during_a_token_refresh_stays_removed(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="1//race-token")
    service = h.service()
    account = await service.enroll("1//race-token")
    h.fake.options.token_delay = 5.0  # the refresh waits at the token endpoint meanwhile
    refresh = asyncio.create_task(service.fresh_token(account, force=True))
    await asyncio.sleep(0.2)
    removal = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "antigravity_gateway", "accounts", "remove",
                         EMAIL], capture_output=True, text=True, timeout=60,
        env={**os.environ, "AGM_DATA_DIR": str(h.data_dir)})
    assert removal.returncode == 0, removal.stderr
    assert not refresh.done()  # the removal landed while the refresh was in flight
    fresh = await refresh
    assert fresh.access_token != account.access_token
    assert h.store.load_all() == []  # not written back
    await service.amend(fresh, last_used=1.0)
    assert h.store.load_all() == []


async def test_a_failing_refresh_does_not_undo_a_sign_in_meanwhile(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="1//old-token")
    service = h.service()
    account = await service.enroll("1//old-token")
    h.fake.revoke("1//old-token")
    h.fake.options.token_delay = 1.0
    refresh = asyncio.create_task(service.fresh_token(account, force=True))
    await asyncio.sleep(0.2)  # a sign-in saves a new token while the old one is being refused
    await asyncio.to_thread(h.store.update, account.id,
                            lambda stored: replace(stored, refresh_token="1//new-token"))
    with pytest.raises(oauth.InvalidGrant):
        await refresh
    (stored,) = h.store.load_all()
    assert not stored.disabled and stored.refresh_token == "1//new-token"


@pytest.fixture
def data_dir(fake_google_thread: FakeGoogle, tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    write_config(fake_google_thread, data_dir)
    return data_dir


def test_six_parallel_adds_of_one_token_make_one_account(fake_google_thread: FakeGoogle,
                                                         data_dir: Path) -> None:
    fake_google_thread.add_account(EMAIL, refresh_token="1//same-token")
    adds = [agm_process(data_dir, "accounts", "add", "--refresh-token", "1//same-token")
            for _ in range(6)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in adds]
    assert all(code == 0 for code, _, _ in results), results
    said = sorted(out.split()[0] for _, out, _ in results)
    assert said == ["added"] + ["updated"] * 5  # upserts one after the other
    assert [a.email for a in AccountStore(data_dir).load_all()] == [EMAIL]
    assert len(list((data_dir / "accounts").glob("*.json"))) == 1


def test_stale_temp_files_are_swept_at_start(fake_google_thread: FakeGoogle,
                                             data_dir: Path) -> None:
    accounts = data_dir / "accounts"
    accounts.mkdir(mode=0o700)
    stale, fresh = accounts / ".abc.json.x1.tmp", accounts / ".def.json.x2.tmp"
    for path in (stale, fresh):
        path.write_text("half-written")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    assert AccountStore(data_dir).sweep() == 1
    assert not stale.exists() and fresh.exists()  # a writer may still own a fresh one
    os.utime(fresh, (old, old))
    fake_google_thread.add_account(EMAIL, refresh_token="1//sweep-token")
    added = agm_process(data_dir, "accounts", "login", "--timeout", "1", "--no-browser")
    added.communicate(timeout=60)
    assert not fresh.exists()
