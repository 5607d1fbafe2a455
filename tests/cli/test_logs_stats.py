"""`agm logs` and `agm stats` read monitor.db directly (no gateway running)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from click.testing import CliRunner

from antigravity_gateway import cli
from antigravity_gateway.monitor.record import Record
from antigravity_gateway.monitor.service import Monitor
from antigravity_gateway.settings import MonitorSettings


async def _fill(data_dir: Path) -> None:
    mon = Monitor(data_dir, MonitorSettings(), secrets=lambda: [], accounts=lambda: {})
    await mon.start()
    now = int(time.time() * 1000)
    for n, (status, account) in enumerate([(200, "a@x.com"), (429, "b@x.com"), (200, "b@x.com")]):
        mon.finish(Record(timestamp_ms=now + n, method="POST", path="/v1/messages",
                          protocol="anthropic", model="claude-sonnet-4-6",
                          mapped_model="claude-sonnet-4-6", account_email=account,
                          status=status, input_tokens=10, output_tokens=5,
                          error="rate limited" if status == 429 else ""))
    await mon.stop()


def run(data_dir: Path, *args: str) -> str:
    runner = CliRunner(env={"COLUMNS": "200", "AGM_DATA_DIR": str(data_dir)})
    result = runner.invoke(cli.main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_logs_and_stats(tmp_path: Path) -> None:
    asyncio.run(_fill(tmp_path))
    table = run(tmp_path, "logs")
    assert "claude-sonnet-4-6" in table and "429" in table and "rate limited" in table
    rows = [json.loads(line) for line in run(tmp_path, "logs", "--json").splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3]  # newest last
    errors = [json.loads(line) for line in run(tmp_path, "logs", "--errors", "--json").splitlines()]
    assert [r["status"] for r in errors] == [429]
    by_account = json.loads(run(tmp_path, "stats", "--by", "account", "--json"))["buckets"]
    assert {b["key"]: b["requests"] for b in by_account} == {"b@x.com": 2, "a@x.com": 1}
    shown = run(tmp_path, "stats", "--by", "model")
    assert "claude-sonnet-4-6" in shown and "total" in shown and "30" in shown


def test_without_a_database(tmp_path: Path) -> None:
    assert "no requests recorded yet" in run(tmp_path, "stats")
    assert run(tmp_path, "logs", "--json") == ""
