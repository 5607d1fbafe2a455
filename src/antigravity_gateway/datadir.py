"""The data directory at start: one `agm serve` per directory, and no stale temp files.

`exclusive(data_dir)` holds an fcntl lock on `serve.lock` for the server's lifetime, so a second
server on the same directory refuses with one clear line instead of racing the first one's
writes (several may share one only with `state.backend = "redis"`). `remove_stale_temp_files`
deletes the temp files of atomic writes killed midway: they may hold a refresh token.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .accounts.store import AccountStore

log = logging.getLogger(__name__)

LOCK_FILE = "serve.lock"


class DataDirBusy(Exception):
    """Another server holds the data directory; the message is meant for the user."""


@contextlib.contextmanager
def exclusive(data_dir: Path) -> Iterator[None]:
    """Hold `serve.lock` while the block runs; the kernel releases it however the process
    ends, `kill -9` included."""
    data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            raise DataDirBusy(
                f"another `agm serve` (pid {holder}) is already using {data_dir}; stop it "
                "first, use another --data-dir, or set state.backend = \"redis\" to run several"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def remove_stale_temp_files(data_dir: Path, *, older_than: float = 0.0) -> int:
    """Delete leftover temp files of atomic writes (the data dir's own, then the account
    store's); returns how many were removed."""
    removed = 0
    cutoff = time.time() - older_than
    for path in data_dir.glob(".*.tmp") if data_dir.is_dir() else ():
        with contextlib.suppress(OSError):
            if path.stat().st_mtime <= cutoff:
                path.unlink()
                removed += 1
    removed += AccountStore(data_dir).sweep(older_than=older_than)
    if removed:
        log.info("removed %d stale temp file(s) left by an interrupted write", removed)
    return removed
