"""Reading the monitor database: the log listing with its filters, one row with bodies, stats.

Pure functions over a sqlite3 connection (read-only is enough), shared by the admin API and by
`agm logs` / `agm stats`. Parameters are validated by the callers; here they are bound, never
pasted into SQL (only the bucket expressions below are).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

LIST_FIELDS = (
    "id", "timestamp", "method", "path", "protocol", "model", "mapped_model", "account_email",
    "client_ip", "status", "duration_ms", "ttfb_ms", "stream", "attempts", "input_tokens",
    "output_tokens", "cached_tokens", "error",
)
BUCKETS = {
    "hour": "strftime('%Y-%m-%dT%H:00Z', hour, 'unixepoch')",
    "day": "strftime('%Y-%m-%d', hour, 'unixepoch')",
    "account": "account_email",
    "model": "model",
    "protocol": "protocol",
}
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class LogFilter:
    """`GET /api/logs` query: every field optional."""

    limit: int = 100
    before: int | None = None  # an id: rows older than it (paging)
    after: int | None = None  # an id: rows newer than it (following)
    q: str = ""
    status: int | None = None
    errors: bool = False
    account: str = ""
    model: str = ""
    protocol: str = ""


def _where(f: LogFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if f.before is not None:
        clauses.append("id < ?")
        args.append(f.before)
    if f.after is not None:
        clauses.append("id > ?")
        args.append(f.after)
    if f.q:
        like = f"%{f.q}%"
        clauses.append("(path LIKE ? OR model LIKE ? OR mapped_model LIKE ? OR account_email "
                       "LIKE ? OR client_ip LIKE ? OR error LIKE ? OR CAST(status AS TEXT) = ?)")
        args.extend([like] * 6 + [f.q])
    if f.status is not None:
        clauses.append("status = ?")
        args.append(f.status)
    if f.errors:
        clauses.append("(status >= 400 OR status < 200)")
    if f.account:
        clauses.append("account_email = ?")
        args.append(f.account)
    if f.model:
        clauses.append("(model = ? OR mapped_model = ?)")
        args.extend([f.model, f.model])
    if f.protocol:
        clauses.append("protocol = ?")
        args.append(f.protocol)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def as_row(raw: sqlite3.Row) -> dict[str, Any]:
    row = dict(raw)
    if "stream" in row:
        row["stream"] = bool(row["stream"])
    return row


def list_logs(conn: sqlite3.Connection, f: LogFilter) -> tuple[list[dict[str, Any]], int]:
    """(rows newest first without bodies, total matching the filter without paging)."""
    where, args = _where(f)
    order = "ASC" if f.after is not None and f.before is None else "DESC"
    rows = conn.execute(
        f"SELECT {', '.join(LIST_FIELDS)} FROM request_logs{where} ORDER BY id {order} LIMIT ?",
        [*args, f.limit],
    ).fetchall()
    counted = LogFilter(**{**_fields(f), "before": None, "after": None})
    count_where, count_args = _where(counted)
    total = conn.execute(f"SELECT count(*) FROM request_logs{count_where}", count_args)
    return [as_row(r) for r in rows], int(total.fetchone()[0])


def _fields(f: LogFilter) -> dict[str, Any]:
    return {name: getattr(f, name) for name in LogFilter.__dataclass_fields__}


def get_log(conn: sqlite3.Connection, log_id: int) -> dict[str, Any] | None:
    found = conn.execute("SELECT * FROM request_logs WHERE id = ?", (log_id,)).fetchone()
    return as_row(found) if found is not None else None


def stats(
    conn: sqlite3.Connection, by: str, since: int | None = None, until: int | None = None
) -> list[dict[str, Any]]:
    """Usage buckets from the hourly rollups; `since`/`until` are unix seconds."""
    key = BUCKETS[by]
    clauses, args = [], []
    if since is not None:
        clauses.append("hour >= ?")
        args.append(since // 3600 * 3600)
    if until is not None:
        clauses.append("hour <= ?")
        args.append(until)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    order = "key" if by in ("hour", "day") else "requests DESC, key"
    rows = conn.execute(
        f"SELECT {key} AS key, sum(requests) AS requests, sum(errors) AS errors, "
        "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, "
        f"sum(cached_tokens) AS cached_tokens FROM usage_hourly{where} "
        f"GROUP BY key ORDER BY {order}",
        args,
    ).fetchall()
    return [dict(r) for r in rows]
