"""`Monitor`: one row per proxied request in `monitor.db`, usage rollups, metrics, the live
feed. IO lives here (SQLite on one writer thread); the server edge only fills records.

`Monitor.finish(record)` is the only call on the request path: in-memory counters and metrics,
then a non-blocking hand-off to the writer. Reads (`logs`, `log`, `stats`) run in a thread on a
short read-only connection, so they never wait behind writes (WAL).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..settings import MonitorSettings
from . import db, queries, read
from .access import LOGGER, format_access
from .bodies import body_text, readable, scrub_all
from .feed import Feed
from .record import Record
from .writer import Writer

if TYPE_CHECKING:  # prometheus_client loads with the first Monitor
    from .metrics import Metrics

T = TypeVar("T")
access_log = logging.getLogger(LOGGER)
log = logging.getLogger(__name__)


class Monitor:
    """Request log, statistics and metrics of one running gateway."""

    def __init__(
        self,
        data_dir: Path,
        settings: MonitorSettings,
        *,
        secrets: Callable[[], list[str]],
        accounts: Callable[[], Mapping[str, int]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.path = data_dir / db.DB_FILE
        self.feed = Feed()
        self.json_access_log = False
        # where access lines go: `logging` unless the server hands a quicker way (runner.py)
        self.access_out: Callable[[str], None] = access_log.info
        self.requests_total = 0
        self.errors_total = 0
        self.active_streams = 0
        self._secrets = secrets
        self._loop: asyncio.AbstractEventLoop | None = None
        self.writer = Writer(data_dir, to_rows=self._to_rows, on_rows=self._hand_over,
                             retention_days=lambda: self.settings.retention_days, clock=clock)
        from .metrics import Metrics, Readings

        self.metrics: Metrics = Metrics(Readings(
            accounts=accounts, streams=lambda: self.active_streams,
            monitor_up=lambda: self.writer.healthy, dropped=lambda: self.writer.dropped))

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.writer.start()

    async def stop(self) -> None:
        await asyncio.to_thread(self.writer.stop)
        self.feed.close()

    def finish(self, record: Record) -> None:
        """A request has ended: count it, log it, queue it for the database."""
        self.requests_total += 1
        self.errors_total += record.failed
        self.metrics.observe(record)
        self.log_access(record)
        if self.settings.enabled:
            self.writer.submit(record)

    def log_access(self, record: Record) -> None:
        """The request's one access line: text, or JSON with `--log-format json`."""
        if access_log.isEnabledFor(logging.INFO):
            self.access_out(format_access(record, as_json=self.json_access_log))

    # ---- writer thread ---------------------------------------------------------------------

    def _to_rows(self, records: list[Record]) -> list[dict[str, Any]]:
        limit = self.settings.max_body_chars if self.settings.log_bodies else 0
        rows = [_to_row(record, limit) for record in records]
        texts = [(row, field) for row in rows for field in _TEXTS if row[field]]
        scrubbed = scrub_all([row[field] for row, field in texts], self._secrets())
        for (row, field), text in zip(texts, scrubbed, strict=True):
            row[field] = text
        return rows

    def _hand_over(self, rows: list[dict[str, Any]]) -> None:
        if self._loop is None or not self.feed.readers:
            return
        shown = [{k: v for k, v in row.items() if not k.endswith("_body")} for row in rows]
        for row in shown:
            row["stream"] = bool(row["stream"])
        self._loop.call_soon_threadsafe(self.feed.publish, shown)

    # ---- reads -----------------------------------------------------------------------------

    async def logs(self, f: queries.LogFilter) -> tuple[list[dict[str, Any]], int]:
        return await self._read(lambda c: queries.list_logs(c, f), ([], 0))

    async def log(self, log_id: int) -> dict[str, Any] | None:
        return await self._read(lambda c: queries.get_log(c, log_id), None)

    async def stats(self, by: str, since: int | None, until: int | None) -> list[dict[str, Any]]:
        return await self._read(lambda c: queries.stats(c, by, since, until), [])

    async def clear(self) -> int:
        """Delete every request row (through the writer: it is the only one that writes)."""
        return int(await asyncio.wrap_future(self.writer.call(db.clear_logs)))

    async def _read(self, query: Callable[[sqlite3.Connection], T], empty: T) -> T:
        return await asyncio.to_thread(read, self.path, query, empty)


_TEXTS = ("error", "request_body", "response_body")  # scrubbed of credentials, a batch at once


def _to_row(record: Record, limit: int) -> dict[str, Any]:
    """The row as stored, but for scrubbing its texts."""
    answer = readable(record.answer) if record.answer is not None else record.response_body
    return {
        "timestamp": record.timestamp_ms, "method": record.method, "path": record.path,
        "protocol": record.protocol, "model": record.model,
        "mapped_model": record.mapped_model, "account_email": record.account_email,
        "client_ip": record.client_ip, "status": record.status,
        "duration_ms": round(record.duration_ms, 1),
        "ttfb_ms": None if record.ttfb_ms is None else round(record.ttfb_ms, 1),
        "stream": int(record.stream), "attempts": record.attempts,
        "input_tokens": record.input_tokens, "output_tokens": record.output_tokens,
        "cached_tokens": record.cached_tokens,
        "error": body_text(record.error.encode(), 2000) or "",
        "request_body": body_text(record.request_body, limit),
        "response_body": body_text(answer, limit),
    }
