"""The request monitor: `service.Monitor` (the running gateway's writer, metrics and feed),
`record.Record` (one request), and `read` for the commands that only read `monitor.db`.

This module stays light: `agm logs|stats|--help` import it, and the Monitor's asyncio, threads
and prometheus_client load only where a gateway runs (agm start-up time, bench/README.md).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from . import db

T = TypeVar("T")
log = logging.getLogger(__name__)


def read(path: Path, query: Callable[[sqlite3.Connection], T], empty: T) -> T:
    """Run `query` on a read-only connection; `empty` when there is no readable database."""
    if not path.is_file():
        return empty
    try:
        conn = db.connect(path, readonly=True)
    except sqlite3.Error as exc:
        log.warning("monitor: cannot read %s: %s", path, exc)
        return empty
    try:
        if int(conn.execute("PRAGMA user_version").fetchone()[0]) == 0:
            return empty
        return query(conn)
    except sqlite3.Error as exc:
        log.warning("monitor: cannot read %s: %s", path, exc)
        return empty
    finally:
        conn.close()
