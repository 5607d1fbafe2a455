"""The monitor's storage on its own: schema versions, batch writes with rollups, retention that
really deletes, overflow and an unwritable database (monitor off, nothing blocks), scrubbing,
the live feed's back-pressure."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from pathlib import Path

import pytest

from antigravity_gateway.core.messages import ChatResponse, Text, Thinking, ToolCall, Usage
from antigravity_gateway.monitor import db, queries
from antigravity_gateway.monitor.bodies import readable, scrub, scrub_all
from antigravity_gateway.monitor.feed import Feed
from antigravity_gateway.monitor.record import Record
from antigravity_gateway.monitor.service import Monitor
from antigravity_gateway.settings import MonitorSettings

DAY_MS = 86_400_000


def record(n: int, *, ts: int | None = None, status: int = 200, **fields: object) -> Record:
    base = dict(timestamp_ms=ts or int(time.time() * 1000), method="POST",
                path="/v1/chat/completions", protocol="openai", model="m", status=status,
                account_email="a@example.com", input_tokens=n, output_tokens=2 * n,
                request_body=f'{{"n": {n}}}'.encode())
    base.update(fields)
    return Record(**base)  # type: ignore[arg-type]


def monitor(tmp_path: Path, **settings: object) -> Monitor:
    return Monitor(tmp_path, MonitorSettings(**settings), secrets=lambda: ["sk-secret-key-1"],  # type: ignore[arg-type]
                   accounts=lambda: {})


def rows(path: Path) -> list[dict]:
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM request_logs ORDER BY id")]


async def flushed(mon: Monitor, count: int) -> None:
    for _ in range(1000):  # up to 10 s: a locked database makes the writer wait 2 s
        if mon.writer.written + mon.writer.dropped >= count:
            return
        await asyncio.sleep(0.01)


async def test_rows_rollups_and_queries(tmp_path: Path) -> None:
    mon = monitor(tmp_path)
    await mon.start()
    for n in range(1, 6):
        mon.finish(record(n, status=200 if n < 5 else 502))
    await flushed(mon, 5)
    listed, total = await mon.logs(queries.LogFilter(limit=2))
    assert total == 5 and [r["id"] for r in listed] == [5, 4]
    older, _ = await mon.logs(queries.LogFilter(limit=10, before=4))
    assert [r["id"] for r in older] == [3, 2, 1]
    errors, count = await mon.logs(queries.LogFilter(errors=True))
    assert count == 1 and errors[0]["status"] == 502
    detail = await mon.log(1)
    assert detail is not None and detail["request_body"] == '{"n": 1}'
    [bucket] = await mon.stats("account", None, None)
    assert bucket == {"key": "a@example.com", "requests": 5, "errors": 1, "input_tokens": 15,
                      "output_tokens": 30, "cached_tokens": 0}
    assert mon.requests_total == 5 and mon.errors_total == 1
    assert await mon.clear() == 5
    assert (await mon.logs(queries.LogFilter()))[1] == 0
    assert (await mon.stats("day", None, None))[0]["requests"] == 5  # stats stay
    await mon.stop()


async def test_retention_really_deletes(tmp_path: Path) -> None:
    now = int(time.time() * 1000)
    mon = monitor(tmp_path, retention_days=2)
    await mon.start()
    mon.finish(record(1, ts=now - 3 * DAY_MS))
    mon.finish(record(2, ts=now - 1 * DAY_MS))
    await flushed(mon, 2)
    await mon.stop()
    assert len(rows(tmp_path / db.DB_FILE)) == 2
    again = monitor(tmp_path, retention_days=2)  # retention runs at start, then hourly
    await again.start()
    again.finish(record(3))
    await flushed(again, 1)
    await again.stop()
    kept = rows(tmp_path / db.DB_FILE)
    assert [r["input_tokens"] for r in kept] == [2, 3]
    with sqlite3.connect(tmp_path / db.DB_FILE) as conn:
        assert conn.execute("SELECT sum(requests) FROM usage_hourly").fetchone()[0] == 2


def test_schema_is_versioned(tmp_path: Path) -> None:
    conn = db.open_for_writing(tmp_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.migrate(conn) == db.SCHEMA_VERSION  # a second run changes nothing
    conn.execute(f"PRAGMA user_version={db.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(db.SchemaTooNew):
        db.open_for_writing(tmp_path)


async def test_unwritable_database_turns_the_monitor_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if os.geteuid() == 0:
        (tmp_path / db.DB_FILE).mkdir()  # root ignores permissions: a directory in its place
    else:
        tmp_path.chmod(0o500)
    mon = monitor(tmp_path)
    with caplog.at_level(logging.ERROR):
        await mon.start()
        started = time.perf_counter()
        for n in range(50):
            mon.finish(record(n))
        assert time.perf_counter() - started < 1.0  # never waits on the database
        await flushed(mon, 50)
    assert not mon.writer.healthy and mon.writer.dropped == 50
    assert b"agm_monitor_up 0.0" in mon.metrics.render()
    assert b"agm_monitor_dropped_records_total 50.0" in mon.metrics.render()
    assert [r.message for r in caplog.records if "monitor off" in r.message]
    assert await mon.logs(queries.LogFilter()) == ([], 0)
    await mon.stop()
    tmp_path.chmod(0o700)


async def test_a_locked_database_turns_the_monitor_off(tmp_path: Path) -> None:
    db.open_for_writing(tmp_path).close()
    blocker = sqlite3.connect(tmp_path / db.DB_FILE, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    mon = monitor(tmp_path)
    await mon.start()
    mon.finish(record(1))
    await flushed(mon, 1)
    assert not mon.writer.healthy and mon.writer.dropped == 1
    blocker.execute("ROLLBACK")
    blocker.close()
    await mon.stop()


def test_a_full_queue_drops_and_counts(tmp_path: Path) -> None:
    mon = monitor(tmp_path)
    mon.writer._queue._capacity = 3  # the thread is not started: nothing drains the queue
    for n in range(5):
        mon.finish(record(n))
    assert mon.writer.dropped == 2


def test_scrub_removes_credentials() -> None:
    text = ('{"api_key": "whatever", "messages": "key sk-secret-key-1 token ya29.abc-def '
            'refresh 1//0gAbCdEfGhIjKl", "h": "Bearer abcdefghijk", "refresh_token": "rt"}')
    clean = scrub(text, ["sk-secret-key-1"])
    for secret in ("whatever", "sk-secret-key-1", "ya29.abc", "1//0gAb", "abcdefghijk", '"rt"'):
        assert secret not in clean
    assert '"messages"' in clean


def test_scrub_removes_a_bearer_token_in_capitals() -> None:
    assert scrub('{"h": "BEARER abcdefghijk123"}') == '{"h": "[redacted]"}'


def test_scrub_all_is_scrub_of_each_text() -> None:
    batches = [
        ['{"model": "m", "messages": []}', '{"choices": [{"text": "hi"}]}'],  # nothing to scrub
        ['{"model": "m"}', '{"api_key": "k1"}', "call with Bearer abcdefghijk"],
        ["the key is sk-secret-key-1", "clean"],
        ['{"password"', ': "spans two texts"}'],  # a match only when joined: scrubbed one by one
        ["sk-abcdefghij at the start", "ya29.at-the-start too"],
    ]
    for texts in batches:
        assert scrub_all(texts, ["sk-secret-key-1"]) == [scrub(t, ["sk-secret-key-1"])
                                                         for t in texts]
    clean = batches[0]
    assert scrub_all(clean) is clean  # checked together, left as they were


def test_readable_answer() -> None:
    answer = ChatResponse(id="x", model="m", finish_reason="tool_use",
                          parts=(Thinking(text="hmm"), Text(text="hi"),
                                 ToolCall(id="t1", name="ls", arguments={"p": "/"})),
                          usage=Usage(input_tokens=3, output_tokens=4))
    shown = readable(answer).decode()
    assert '"thinking":"hmm"' in shown and '"text":"hi"' in shown
    assert '"name":"ls"' in shown and "data:" not in shown


async def test_feed_drops_a_slow_reader() -> None:
    feed = Feed(size=2)
    slow, fast = feed.subscribe(), feed.subscribe()
    feed.publish([{"id": 1}, {"id": 2}])
    assert fast.queue.get_nowait() == {"id": 1} and fast.queue.get_nowait() == {"id": 2}
    feed.publish([{"id": 3}])  # slow never read: its queue is full
    assert slow.dropped and feed.readers == 1 and feed.dropped_readers == 1
    assert slow.queue.get_nowait() is None  # its stream ends
    assert fast.queue.get_nowait() == {"id": 3}
