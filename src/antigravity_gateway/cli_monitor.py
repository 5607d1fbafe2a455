"""`agm logs` and `agm stats`: the request log and usage statistics in the terminal.

Both read `monitor.db` directly (read-only, WAL: safe while the gateway writes it), so they work
whether or not a gateway runs. `logs --follow` polls for new rows every second.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .cli import _data_dir, data_dir_option, main
from .monitor import db, queries, read

if TYPE_CHECKING:  # rich loads in the commands (agm start-up time, bench/README.md)
    from rich.console import Console
    from rich.table import Table

FOLLOW_SECONDS = 1.0


def _db(data_dir: Path) -> Path:
    return data_dir / db.DB_FILE


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _model(row: dict[str, Any]) -> str:
    asked, mapped = row["model"] or "-", row["mapped_model"]
    return f"{asked} -> {mapped}" if mapped and mapped != asked else asked


def logs_table(rows: list[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for title in ("id", "time", "status", "protocol", "model", "account", "ms", "tokens in/out",
                  "error"):
        table.add_column(title, overflow="fold")
    for row in rows:
        style = "red" if row["status"] >= 400 else ""
        table.add_row(
            str(row["id"]), _when(row["timestamp"]), f"[{style}]{row['status']}[/]" if style
            else str(row["status"]), row["protocol"], _model(row), row["account_email"] or "-",
            f"{row['duration_ms']:.0f}", f"{row['input_tokens']}/{row['output_tokens']}",
            (row["error"] or "")[:80])
    return table


def _show(console: Console, rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        for row in rows:
            click.echo(json.dumps(row))
    elif rows:
        console.print(logs_table(rows))


@main.command()
@click.option("--follow", "-f", is_flag=True, help="Keep printing new requests as they come.")
@click.option("--errors", is_flag=True, help="Only failed requests (status >= 400).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--limit", "-n", type=click.IntRange(1, queries.MAX_LIMIT), default=50,
              show_default=True, help="How many of the latest requests to show first.")
@data_dir_option
def logs(follow: bool, errors: bool, as_json: bool, limit: int) -> None:
    """The request log (newest last), from monitor.db."""
    from rich.console import Console

    path, console = _db(_data_dir()), Console()
    rows = list(reversed(_page(path, queries.LogFilter(limit=limit, errors=errors))))
    _show(console, rows, as_json)
    last = max((r["id"] for r in rows), default=0)
    while follow:
        time.sleep(FOLLOW_SECONDS)
        newer = _page(path, queries.LogFilter(limit=queries.MAX_LIMIT, after=last, errors=errors))
        if newer:
            _show(console, newer, as_json)
            last = newer[-1]["id"]


def _page(path: Path, f: queries.LogFilter) -> list[dict[str, Any]]:
    none: list[dict[str, Any]] = []
    return read(path, lambda c: queries.list_logs(c, f)[0], none)


@main.command()
@click.option("--by", type=click.Choice(list(queries.BUCKETS)), default="day",
              show_default=True, help="How to group the usage.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@data_dir_option
def stats(by: str, as_json: bool) -> None:
    """Requests and tokens per hour, day, account, model or protocol, from monitor.db."""
    none: list[dict[str, Any]] = []
    buckets = read(_db(_data_dir()), lambda c: queries.stats(c, by), none)
    if as_json:
        click.echo(json.dumps({"buckets": buckets}))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for title in (by, "requests", "errors", "input tokens", "output tokens", "cached tokens"):
        table.add_column(title, justify="left" if title == by else "right")
    for b in buckets:
        table.add_row(b["key"] or "-", *(f"{b[f]:,}" for f in (
            "requests", "errors", "input_tokens", "output_tokens", "cached_tokens")))
    if buckets:
        table.add_section()
        table.add_row("total", *(f"{sum(b[f] for b in buckets):,}" for f in (
            "requests", "errors", "input_tokens", "output_tokens", "cached_tokens")))
    Console().print(table if buckets else "no requests recorded yet")

