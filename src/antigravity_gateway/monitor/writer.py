"""The one writer thread: records in through a bounded queue, rows out to SQLite in batches.

`submit` never blocks: beyond `capacity` waiting records it drops the record and counts it
(`dropped`). Each batch (`Batches`) is one transaction; the stored rows go to `on_rows` (the
live feed). A database that cannot be written turns the monitor off (one log line, `healthy`
false, records dropped and counted) until a reopen, tried every REOPEN_SECONDS, succeeds.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..batches import Batches
from . import db

log = logging.getLogger(__name__)

BATCH = 1000
CAPACITY = 10_000  # records waiting for the writer (each holds its capped bodies)
REOPEN_SECONDS = 30.0
RETENTION_SECONDS = 3600.0  # retention runs at start and this often

Row = dict[str, Any]
Command = Callable[[sqlite3.Connection], Any]


@dataclass(slots=True)
class _Job:
    command: Command
    done: Future[Any] = field(default_factory=Future)


class Writer:
    """Owns the write connection; everything that writes monitor.db goes through here."""

    def __init__(
        self,
        data_dir: Path,
        *,
        to_rows: Callable[[list[Any]], list[Row]],
        on_rows: Callable[[list[Row]], None],
        retention_days: Callable[[], int],
        capacity: int = CAPACITY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._data_dir = data_dir
        self._to_rows = to_rows
        self._on_rows = on_rows
        self._retention_days = retention_days
        self._clock = clock
        self._queue: Batches[Any] = Batches(capacity)
        self._thread = threading.Thread(target=self._run, name="agm-monitor", daemon=True)
        self._conn: sqlite3.Connection | None = None
        self._reopen_at = 0.0
        self._retention_at = 0.0
        self.dropped = 0
        self.written = 0
        self.off_reason = ""

    @property
    def healthy(self) -> bool:
        return not self.off_reason

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then end the thread."""
        if self._thread.is_alive():
            self._queue.close()
            self._thread.join(timeout)

    def submit(self, record: Any) -> bool:
        if not self._queue.put(record):
            self._drop(1, "the monitor queue is full")
            return False
        return True

    def call(self, command: Command) -> Future[Any]:
        """Run `command(conn)` on the writer thread (queued even when records are not: a few
        admin commands, never dropped)."""
        job = _Job(command)
        self._queue.put(job, urgent=True)
        return job.done

    def _drop(self, count: int, why: str) -> None:
        if self.dropped == 0 or (self.dropped + count) // 1000 > self.dropped // 1000:
            log.warning("monitor: %s; %d record(s) dropped so far", why, self.dropped + count)
        self.dropped += count

    # ---- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        self._open()  # sqlite3 connections belong to the thread that opened them
        while not self._queue.ended:
            self._handle(self._queue.take(BATCH))
        if self._conn is not None:
            self._conn.close()

    def _handle(self, items: list[Any]) -> None:
        records = [i for i in items if not isinstance(i, _Job)]
        if records:
            self._write(records)
        for job in (i for i in items if isinstance(i, _Job)):
            self._run_job(job)
        self._maybe_retain()

    def _write(self, records: list[Any]) -> None:
        conn = self._connection()
        if conn is None:
            self._drop(len(records), f"monitor is off ({self.off_reason})")
            return
        try:
            rows = self._to_rows(records)
            ids = db.insert(conn, rows)
        except sqlite3.Error as exc:
            self._turn_off(exc)
            self._drop(len(records), f"monitor is off ({self.off_reason})")
            return
        for row, row_id in zip(rows, ids, strict=True):
            row["id"] = row_id
        self.written += len(rows)
        self._on_rows(rows)

    def _run_job(self, job: _Job) -> None:
        conn = self._connection()
        if conn is None:
            job.done.set_exception(RuntimeError(f"the monitor is off: {self.off_reason}"))
            return
        try:
            job.done.set_result(job.command(conn))
        except sqlite3.Error as exc:
            self._turn_off(exc)
            job.done.set_exception(RuntimeError(f"the monitor is off: {self.off_reason}"))
        except Exception as exc:
            job.done.set_exception(exc)

    def _maybe_retain(self) -> None:
        now = self._clock()
        if self._conn is None or now < self._retention_at:
            return
        self._retention_at = now + RETENTION_SECONDS
        cutoff = int((now - self._retention_days() * 86400) * 1000)
        try:
            deleted = db.delete_older(self._conn, cutoff)
        except sqlite3.Error as exc:
            self._turn_off(exc)
            return
        if deleted:
            log.info("monitor: retention deleted %d request row(s)", deleted)

    # ---- the connection --------------------------------------------------------------------

    def _open(self) -> None:
        try:
            self._conn = db.open_for_writing(self._data_dir)
        except (sqlite3.Error, OSError) as exc:
            self._turn_off(exc)
            return
        if self.off_reason:
            log.warning("monitor: monitor.db is writable again; monitor on")
        self.off_reason = ""
        self._maybe_retain()

    def _connection(self) -> sqlite3.Connection | None:
        if self._conn is None and self._clock() >= self._reopen_at:
            self._open()
        return self._conn

    def _turn_off(self, exc: BaseException) -> None:
        if not self.off_reason:
            log.error("monitor off: cannot write %s (%s); the gateway keeps serving without "
                      "a request log", self._data_dir / db.DB_FILE, exc)
        self.off_reason = str(exc) or type(exc).__name__
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._reopen_at = self._clock() + REOPEN_SECONDS
