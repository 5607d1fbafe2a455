"""Issue 12's load check: 500 concurrent requests through the running gateway (`agm serve`), a
mix of protocols, streams, upstream failures, retries, bad requests and client hang-ups, give
exactly 500 rows in monitor.db, each with the status, account, tokens and model the client saw;
the stats buckets and the Prometheus counters add up to the same totals.

Every request carries a marker (`req-N`) in its body; the row is found by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.gateway import API_KEY, Gateway
from tests.e2e.webclient import Api
from tests.fakes import Reply, delay, internal_error, invalid_argument, text
from tests.fakes.cloudcode import FakeGoogle, FakeGoogleThread

FLASH, CLAUDE = "gemini-3-flash", "claude-sonnet-4-6"
REFUSED, RETRIED, HUNG, WAITED = f"{FLASH}-x", f"{FLASH}-r", f"{FLASH}-h", f"{FLASH}-w"
AUTH = {"x-api-key": API_KEY}
PLAN = {  # category: how many
    "openai": 90, "openai_stream": 60, "anthropic": 60, "anthropic_stream": 40, "gemini": 60,
    "gemini_stream": 40, "refused": 40, "retried": 40, "bad_json": 30, "hang_up": 30,
    "hang_up_waiting": 10,
}
TOTAL = sum(PLAN.values())


@dataclasses.dataclass
class Sent:
    n: int
    kind: str
    model: str
    status: int = 0
    account: str = ""
    tokens: tuple[int, int] | None = None  # (input, output) as the client was told


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogleThread() as fake:
        for name in (REFUSED, RETRIED, HUNG, WAITED):
            fake.add_model(dataclasses.replace(fake.models[FLASH], id=name))
        yield fake


@pytest.fixture(scope="module")
def gateway(fake: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = Gateway.start(fake, Path(tmp_path_factory.mktemp("agm")), accounts=3,
                            max_attempts=3)
    yield gateway
    gateway.stop()


def _sse(body: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in body.splitlines()
            if line.startswith("data: ") and line[6:].strip() not in ("", "[DONE]")]


def _request(sent: Sent) -> tuple[str, dict[str, Any] | bytes]:
    """(path, body) of one request of its kind."""
    say = [{"role": "user", "content": f"req-{sent.n} hello"}]
    kind = sent.kind
    if kind in ("openai", "refused", "retried", "hang_up_waiting"):
        return "/v1/chat/completions", {"model": sent.model, "messages": say}
    if kind in ("openai_stream", "hang_up"):
        return "/v1/chat/completions", {"model": sent.model, "messages": say, "stream": True,
                                        "stream_options": {"include_usage": True}}
    if kind.startswith("anthropic"):
        return "/v1/messages", {"model": sent.model, "max_tokens": 64, "messages": say,
                                "stream": kind == "anthropic_stream"}
    if kind.startswith("gemini"):
        method = "streamGenerateContent?alt=sse" if kind == "gemini_stream" else "generateContent"
        return f"/v1beta/models/{sent.model}:{method}", {
            "contents": [{"role": "user", "parts": [{"text": f"req-{sent.n} hello"}]}]}
    return "/v1/chat/completions", f"req-{sent.n} {{this is not json".encode()


def _told_tokens(kind: str, body: str) -> tuple[int, int] | None:
    """The usage the client was told, in its protocol."""
    if kind in ("openai", "retried"):
        usage = json.loads(body)["usage"]
        return usage["prompt_tokens"], usage["completion_tokens"]
    if kind == "openai_stream":
        usage = next(e["usage"] for e in reversed(_sse(body)) if e.get("usage"))
        return usage["prompt_tokens"], usage["completion_tokens"]
    if kind == "anthropic":
        usage = json.loads(body)["usage"]
        return usage["input_tokens"], usage["output_tokens"]
    if kind == "anthropic_stream":
        events = _sse(body)
        start = next(e for e in events if e["type"] == "message_start")["message"]["usage"]
        end = next(e for e in events if e["type"] == "message_delta")["usage"]
        return end.get("input_tokens", start["input_tokens"]), end["output_tokens"]
    if kind.startswith("gemini"):
        chunks = [json.loads(body)] if kind == "gemini" else _sse(body)
        meta = next(c["usageMetadata"] for c in reversed(chunks) if c.get("usageMetadata"))
        out = meta.get("candidatesTokenCount", 0) + meta.get("thoughtsTokenCount", 0)
        return meta["promptTokenCount"], out
    return None


async def _send(http: aiohttp.ClientSession, base: str, sent: Sent) -> None:
    path, body = _request(sent)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {**AUTH, "Content-Type": "application/json", "anthropic-version": "2023-06-01"}
    if sent.kind == "hang_up_waiting":  # gives up before the answer's headers arrive
        with contextlib.suppress(TimeoutError):
            async with http.post(base + path, data=data, headers=headers,
                                 timeout=aiohttp.ClientTimeout(total=1.0)):
                pass
        sent.status = 499
        return
    async with http.post(base + path, data=data, headers=headers) as resp:
        sent.status, sent.account = resp.status, resp.headers.get("X-Account-Email", "")
        if sent.kind == "hang_up":
            await resp.content.readline()  # the first bytes of the stream, then hang up
            resp.close()
            sent.status = 499
            return
        answer = (await resp.read()).decode()
    if sent.status == 200:
        sent.tokens = _told_tokens(sent.kind, answer)


def _plan() -> list[Sent]:
    models = {"anthropic": CLAUDE, "anthropic_stream": CLAUDE, "refused": REFUSED,
              "retried": RETRIED, "hang_up": HUNG, "hang_up_waiting": WAITED, "bad_json": ""}
    kinds = [kind for kind, count in PLAN.items() for _ in range(count)]
    kinds = kinds[::2] + kinds[1::2]  # interleave the kinds
    return [Sent(n, kind, models.get(kind, FLASH)) for n, kind in enumerate(kinds)]


async def _send_all(base: str, plan: list[Sent]) -> None:
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await asyncio.gather(*(_send(http, base, sent) for sent in plan))


def _rows(gateway: Gateway) -> list[dict[str, Any]]:
    with sqlite3.connect(gateway.data_dir / "monitor.db") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM request_logs ORDER BY id")]


@pytest.fixture(scope="module")
def outcome(gateway: Gateway, fake: FakeGoogle) -> tuple[list[Sent], dict[int, dict]]:
    user1 = gateway.emails[0]
    fake.script_for(*[invalid_argument("refused on purpose")] * PLAN["refused"], model=REFUSED)
    fake.script_for(*[internal_error()] * (3 * PLAN["retried"]), model=RETRIED, email=user1)
    slow = Reply(text("a long answer " * 40, chunks=40), delay(between_chunks=0.05))
    fake.script_for(*[slow] * PLAN["hang_up"], model=HUNG)
    late = Reply(text("too late"), delay(before_headers=3.0))
    fake.script_for(*[late] * PLAN["hang_up_waiting"], model=WAITED)
    plan = _plan()
    asyncio.run(_send_all(gateway.url, plan))
    api = Api(gateway.url, AUTH)
    deadline = time.monotonic() + 30
    while api.get("/api/logs").json()["total"] < TOTAL and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # anything more would be a row too many
    rows = {}
    for row in _rows(gateway):
        marker = re.search(r"req-(\d+)", row["request_body"] or "")
        assert marker, row
        rows[int(marker[1])] = row
    return plan, rows


def test_exactly_one_row_per_request(
    outcome: tuple[list[Sent], dict[int, dict]], gateway: Gateway
) -> None:
    plan, rows = outcome
    assert len(_rows(gateway)) == TOTAL
    assert sorted(rows) == [s.n for s in plan]
    assert Api(gateway.url, AUTH).get("/api/logs").json()["total"] == TOTAL


def test_each_row_says_what_the_client_saw(outcome: tuple[list[Sent], dict[int, dict]]) -> None:
    plan, rows = outcome
    expected_status = {"refused": 400, "bad_json": 400, "hang_up": 499, "hang_up_waiting": 499}
    for sent in plan:
        row = rows[sent.n]
        assert row["status"] == sent.status == expected_status.get(sent.kind, 200), (sent, row)
        assert row["model"] == sent.model, (sent, row)
        if sent.kind != "hang_up_waiting":  # that client never saw the answer's headers
            assert row["account_email"] == sent.account, (sent, row)
        assert bool(row["stream"]) == (sent.kind in ("openai_stream", "anthropic_stream",
                                                     "gemini_stream", "hang_up"))
        if sent.tokens is not None:
            assert (row["input_tokens"], row["output_tokens"]) == sent.tokens, (sent, row)
            assert row["output_tokens"] > 0
        if sent.kind == "bad_json":
            assert row["attempts"] == 0 and row["account_email"] == "" and row["error"]
        elif not sent.kind.startswith("hang_up"):
            assert row["mapped_model"] and row["attempts"] >= 1
            if sent.model != CLAUDE:
                assert row["mapped_model"] == sent.model


def test_retries_name_the_final_account_and_count_attempts(
    outcome: tuple[list[Sent], dict[int, dict]], fake: FakeGoogle, gateway: Gateway
) -> None:
    plan, rows = outcome
    user1 = gateway.emails[0]
    retried = [rows[s.n] for s in plan if s.kind == "retried"]
    assert all(r["account_email"] != user1 and r["attempts"] in (1, 2) for r in retried)
    faults_served = 3 * PLAN["retried"] - fake.pending()  # each failed attempt: 3 base URLs
    assert sum(r["attempts"] - 1 for r in retried) * 3 == faults_served > 0


def test_stats_buckets_add_up(
    outcome: tuple[list[Sent], dict[int, dict]], gateway: Gateway
) -> None:
    _, rows = outcome
    want = (TOTAL, sum(r["status"] >= 400 for r in rows.values()),
            sum(r["input_tokens"] for r in rows.values()),
            sum(r["output_tokens"] for r in rows.values()))
    api = Api(gateway.url, AUTH)
    for by in ("hour", "day", "account", "model", "protocol"):
        buckets = api.get("/api/stats", params={"by": by}).json()["buckets"]
        got = tuple(sum(b[f] for b in buckets)
                    for f in ("requests", "errors", "input_tokens", "output_tokens"))
        assert got == want, by


def test_metrics_count_what_was_sent(
    outcome: tuple[list[Sent], dict[int, dict]], gateway: Gateway
) -> None:
    plan, rows = outcome
    text_ = Api(gateway.url, AUTH).get("/metrics").text
    families = {f.name: f for f in text_string_to_metric_families(text_)}
    requests = families["agm_requests"].samples
    by_status: dict[str, float] = {}
    for sample in requests:
        if sample.name == "agm_requests_total":
            status = sample.labels["status"]
            by_status[status] = by_status.get(status, 0) + sample.value
    assert sum(by_status.values()) == TOTAL
    assert by_status == {str(k): float(sum(s.status == k for s in plan))
                         for k in {s.status for s in plan}}
    tokens = {(s.labels["direction"]): 0.0 for s in families["agm_tokens"].samples}
    for s in families["agm_tokens"].samples:
        if s.name == "agm_tokens_total":
            tokens[s.labels["direction"]] += s.value
    assert tokens["input"] == sum(r["input_tokens"] for r in rows.values())
    assert tokens["output"] == sum(r["output_tokens"] for r in rows.values())
    attempts = sum(s.value for s in families["agm_upstream_attempts"].samples
                   if s.name == "agm_upstream_attempts_total")
    assert attempts == sum(r["attempts"] for r in rows.values())
    durations = families["agm_request_duration_seconds"].samples
    assert sum(s.value for s in durations if s.name.endswith("_count")) == TOTAL
    states = {s.labels["state"]: s.value for s in families["agm_accounts"].samples}
    assert sum(states.values()) == 3
    assert families["agm_streams_active"].samples[0].value == 0
    assert "process_cpu_seconds" in families
