"""The data-directory lock and the temp-file sweep at `agm serve` start (runner._own)."""

from __future__ import annotations

import os
import time

import msgspec
import pytest

from antigravity_gateway import datadir
from antigravity_gateway.runner import _own
from antigravity_gateway.settings import Settings


def _settings(backend: str) -> Settings:
    return msgspec.convert({"state": {"backend": backend}}, Settings)


def test_one_server_per_data_dir(tmp_path) -> None:
    with (_own(_settings("memory"), tmp_path),
          pytest.raises(datadir.DataDirBusy, match=rf"pid {os.getpid()}.*redis"),
          _own(_settings("memory"), tmp_path)):
        pass
    with _own(_settings("memory"), tmp_path):  # released on exit
        pass


def test_a_shared_state_backend_takes_no_lock(tmp_path) -> None:
    with _own(_settings("memory"), tmp_path), _own(_settings("redis"), tmp_path):
        pass


def test_temp_files_are_swept_by_age_without_the_lock(tmp_path) -> None:
    (tmp_path / "accounts").mkdir()
    fresh = tmp_path / "accounts" / ".a.json.1.tmp"
    old = tmp_path / ".config.toml.2.tmp"
    kept = tmp_path / "config.toml"
    for path in (fresh, old, kept):
        path.write_text("x")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    with _own(_settings("redis"), tmp_path):  # another server may be writing: old ones only
        assert not old.exists() and fresh.exists()
    with _own(_settings("memory"), tmp_path):  # under the lock: all of them
        assert not fresh.exists() and kept.exists()
