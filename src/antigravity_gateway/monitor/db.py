"""The SQLite side of the monitor: schema with versioned migrations, batch writes, rollups,
retention. Called only from the writer thread (writes) and from short read connections.

`PRAGMA user_version` is the schema version; `MIGRATIONS[n]` takes a database from version n to
n+1 inside one transaction. Timestamps are unix milliseconds in `request_logs` and unix seconds
(the hour's start, UTC) in `usage_hourly`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DB_FILE = "monitor.db"
BUSY_MS = 2000
ROW_FIELDS = (
    "timestamp", "method", "path", "protocol", "model", "mapped_model", "account_email",
    "client_ip", "status", "duration_ms", "ttfb_ms", "stream", "attempts", "input_tokens",
    "output_tokens", "cached_tokens", "error", "request_body", "response_body",
)
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE request_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        timestamp INTEGER NOT NULL,
        method TEXT NOT NULL, path TEXT NOT NULL, protocol TEXT NOT NULL,
        model TEXT NOT NULL DEFAULT '', mapped_model TEXT NOT NULL DEFAULT '',
        account_email TEXT NOT NULL DEFAULT '', client_ip TEXT NOT NULL DEFAULT '',
        status INTEGER NOT NULL, duration_ms REAL NOT NULL, ttfb_ms REAL,
        stream INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
        cached_tokens INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '',
        request_body TEXT, response_body TEXT);
    CREATE INDEX idx_logs_timestamp ON request_logs (timestamp);
    CREATE INDEX idx_logs_status ON request_logs (status);
    CREATE TABLE usage_hourly (
        hour INTEGER NOT NULL, account_email TEXT NOT NULL, model TEXT NOT NULL,
        protocol TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0, errors INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
        cached_tokens INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (hour, account_email, model, protocol)) WITHOUT ROWID;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

_INSERT = (
    f"INSERT INTO request_logs ({', '.join(ROW_FIELDS)}) "
    f"VALUES ({', '.join('?' for _ in ROW_FIELDS)})"
)
_ROLLUP = """
    INSERT INTO usage_hourly (hour, account_email, model, protocol, requests, errors,
                              input_tokens, output_tokens, cached_tokens)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (hour, account_email, model, protocol) DO UPDATE SET
        requests = requests + excluded.requests, errors = errors + excluded.errors,
        input_tokens = input_tokens + excluded.input_tokens,
        output_tokens = output_tokens + excluded.output_tokens,
        cached_tokens = cached_tokens + excluded.cached_tokens
"""


class SchemaTooNew(sqlite3.DatabaseError):
    """The database was written by a newer version of the gateway."""


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection with WAL, a busy timeout and autocommit off (explicit transactions)."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False,
                               timeout=BUSY_MS / 1000, isolation_level=None)
    else:
        conn = sqlite3.connect(path, timeout=BUSY_MS / 1000, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA busy_timeout={BUSY_MS}")
    conn.row_factory = sqlite3.Row
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version found before."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(f"monitor.db has schema version {found}; this gateway knows "
                           f"{SCHEMA_VERSION} (upgrade the gateway or move the file)")
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found


def open_for_writing(data_dir: Path) -> sqlite3.Connection:
    conn = connect(data_dir / DB_FILE)
    try:
        migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def insert(conn: sqlite3.Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert rows and add them to the hourly rollups, in one transaction; returns the new ids.

    Ids are consecutive: this is the only writer and it holds the write lock (BEGIN IMMEDIATE).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(_INSERT, [[row[f] for f in ROW_FIELDS] for row in rows])
        last = int(conn.execute("SELECT max(id) FROM request_logs").fetchone()[0] or 0)
        conn.executemany(_ROLLUP, _rollups(rows))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return list(range(last - len(rows) + 1, last + 1))


def _rollups(rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The batch summed per (hour, account, model, protocol)."""
    sums: dict[tuple[Any, ...], list[int]] = {}
    for row in rows:
        key = (row["timestamp"] // 1000 // 3600 * 3600, row["account_email"],
               row["mapped_model"] or row["model"], row["protocol"])
        total = sums.get(key) or sums.setdefault(key, [0, 0, 0, 0, 0])
        total[0] += 1
        total[1] += row["status"] >= 400 or row["status"] < 200
        total[2] += row["input_tokens"]
        total[3] += row["output_tokens"]
        total[4] += row["cached_tokens"]
    return [(*key, *total) for key, total in sums.items()]


def delete_older(conn: sqlite3.Connection, cutoff_ms: int) -> int:
    """Really delete rows (and hourly rollups) older than `cutoff_ms`; returns rows deleted.

    Rollup hours are in seconds: compare like with like (the reference app compared
    milliseconds with seconds and never deleted anything).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        deleted = conn.execute("DELETE FROM request_logs WHERE timestamp < ?", (cutoff_ms,))
        conn.execute("DELETE FROM usage_hourly WHERE hour + 3600 <= ?", (cutoff_ms // 1000,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(deleted.rowcount)


def clear_logs(conn: sqlite3.Connection) -> int:
    """Delete every request row (the usage statistics stay)."""
    return int(conn.execute("DELETE FROM request_logs").rowcount)

