"""`/v1/messages` in-process against the simulator: shapes, signatures, warmups, background
tasks, pings, errors in Anthropic's envelope (before and after the stream started)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest
from aiohttp import web

from antigravity_gateway.server import anthropic_routes
from tests.fakes import (
    BrokenStream,
    Reply,
    delay,
    permission_denied,
    quota_exhausted,
    text,
    thinking,
    tool_call,
    validation_required,
)
from tests.fakes.cloudcode import FakeGoogle

from .anthropic_app import AUTH, CHEAP, EMAILS, anthropic_client, body, sse


@pytest.fixture
async def client(fake_google: FakeGoogle, tmp_path, aiohttp_client):
    return await anthropic_client(aiohttp_client, fake_google, tmp_path)


def upstream(fake: FakeGoogle, n: int = -1) -> dict[str, Any]:
    return fake.calls("streamGenerateContent")[n].body["request"]


async def test_non_stream_message(client, fake_google) -> None:
    fake_google.script(text("Hello there."))
    system = [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}]
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {}}]},
        {"role": "system", "content": "Mid-conversation note."},
    ]
    resp = await client.post(
        "/v1/messages?beta=true", headers=AUTH, json=body(system=system, messages=messages)
    )
    assert resp.status == 200
    message = await resp.json()
    assert message["id"].startswith("msg_") and message["type"] == "message"
    assert message["model"] == "gemini-3-flash" and message["role"] == "assistant"
    assert message["content"] == [{"type": "text", "text": "Hello there."}]
    assert message["stop_reason"] == "end_turn" and message["usage"]["input_tokens"] > 0
    assert resp.headers["X-Mapped-Model"] == "gemini-3-flash"
    assert resp.headers["X-Account-Email"] in EMAILS
    assert resp.headers["request-id"] == resp.headers["X-Request-Id"]
    request = upstream(fake_google)
    assert [p["text"] for p in request["systemInstruction"]["parts"]] == [
        "Be brief.",
        "Mid-conversation note.",
    ]
    assert "cache_control" not in json.dumps(request)


async def test_stream_sends_anthropic_events_in_order(client, fake_google) -> None:
    fake_google.script([thinking("Let me see."), text("one two three", chunks=3)])
    resp = await client.post("/v1/messages", headers=AUTH, json=body(stream=True))
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    frames = sse(await resp.text())
    names = [name for name, _ in frames]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert all(name == data["type"] for name, data in frames)
    assert names.count("content_block_start") == names.count("content_block_stop") == 2
    deltas = [d["delta"] for n, d in frames if n == "content_block_delta"]
    assert "".join(d.get("text", "") for d in deltas) == "one two three"
    assert "".join(d.get("thinking", "") for d in deltas) == "Let me see."
    end = frames[-2][1]
    assert end["delta"]["stop_reason"] == "end_turn" and end["usage"]["output_tokens"] > 0


async def test_gemini_tool_round_trip_gets_its_signature_back(client, fake_google) -> None:
    fake_google.script([tool_call("Bash", {"command": "echo hi"})], text("Done."))
    tools = [{"name": "Bash", "input_schema": {"type": "object", "properties": {}}}]
    first = await (await client.post("/v1/messages", headers=AUTH, json=body(tools=tools))).json()
    assert first["stop_reason"] == "tool_use"
    [use] = first["content"]
    assert use["type"] == "tool_use" and use["input"] == {"command": "echo hi"}
    result = {"type": "tool_result", "tool_use_id": use["id"], "content": "hi\n"}
    history = [
        {"role": "user", "content": "run it"},
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [result]},
    ]
    resp = await client.post("/v1/messages", headers=AUTH, json=body(tools=tools, messages=history))
    assert resp.status == 200, await resp.text()
    contents = upstream(fake_google)["contents"]
    call = contents[1]["parts"][0]
    assert call["thoughtSignature"] not in ("", "skip_thought_signature_validator")
    response = contents[2]["parts"][0]["functionResponse"]
    assert response["name"] == "Bash" and response["response"] == {"result": "hi\n"}


async def test_claude_thinking_is_replayed_with_its_signature(client, fake_google) -> None:
    fake_google.script([thinking("Pondering."), text("Answer.")], text("Again."))
    budget = {"type": "enabled", "budget_tokens": 2048}
    ask = body("claude-sonnet-4-6", stream=True, thinking=budget)
    frames = sse(await (await client.post("/v1/messages", headers=AUTH, json=ask)).text())
    deltas = [d["delta"] for n, d in frames if n == "content_block_delta"]
    [signature] = [d["signature"] for d in deltas if d["type"] == "signature_delta"]
    assert signature.startswith("claude#")
    replayed = [
        {"type": "thinking", "thinking": "Pondering.", "signature": signature},
        {"type": "text", "text": "Answer."},
    ]
    history = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": replayed},
        {"role": "user", "content": "and?"},
    ]
    resp = await client.post("/v1/messages", headers=AUTH, json={**ask, "messages": history})
    assert resp.status == 200
    thought = upstream(fake_google)["contents"][1]["parts"][0]
    assert thought["thought"] is True
    assert thought["thoughtSignature"] == signature.removeprefix("claude#")
    assert len(fake_google.calls("streamGenerateContent")) == 2  # the simulator accepted it


async def test_signatures_never_cross_families(client, fake_google) -> None:
    history = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "old", "signature": "claude#UnNpZw=="},
            {"type": "text", "text": "hello"},
        ]},
        {"role": "user", "content": "more"},
    ]  # fmt: skip
    resp = await client.post("/v1/messages", headers=AUTH, json=body(messages=history))
    assert resp.status == 200
    assert "UnNpZw==" not in json.dumps(upstream(fake_google))


async def test_a_refused_signature_is_retried_once_without_thinking(client, fake_google) -> None:
    forged = {"type": "thinking", "thinking": "x", "signature": "claude#Zm9yZ2Vk"}
    history = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [forged, {"type": "text", "text": "hello"}]},
        {"role": "user", "content": "more"},
    ]
    ask = body("claude-sonnet-4-6", messages=history)
    resp = await client.post("/v1/messages", headers=AUTH, json=ask)
    assert resp.status == 200
    [refused, retried] = fake_google.calls("streamGenerateContent")
    assert refused.status == 400 and retried.status == 200
    assert "thought" not in json.dumps(retried.body["request"]["contents"])


@pytest.mark.parametrize("stream", [False, True])
async def test_warmup_is_answered_locally(client, fake_google, stream) -> None:
    messages = [{"role": "user", "content": "Warmup"}]
    warmup = body("claude-opus-4-8", stream=stream, messages=messages)
    resp = await client.post("/v1/messages", headers=AUTH, json=warmup)
    assert resp.status == 200 and resp.headers["X-Warmup-Intercepted"] == "true"
    if stream:
        frames = sse(await resp.text())
        assert [n for n, _ in frames] == [
            "message_start", "content_block_start", "content_block_delta",
            "content_block_stop", "message_delta", "message_stop",
        ]  # fmt: skip
        assert frames[2][1]["delta"] == {"type": "text_delta", "text": "OK"}
    else:
        message = await resp.json()
        assert message["content"] == [{"type": "text", "text": "OK"}]
        assert message["model"] == "claude-opus-4-8" and message["id"].startswith("msg_warmup_")
    assert fake_google.calls("streamGenerateContent") == []


async def test_background_tasks_go_to_the_cheap_model(client, fake_google) -> None:
    title = [{"role": "user", "content": "Please write a 5-10 word title for this conversation"}]
    ask = body("claude-sonnet-4-6", messages=title, thinking={"type": "adaptive"})
    resp = await client.post("/v1/messages", headers=AUTH, json=ask)
    assert resp.status == 200
    assert resp.headers["X-Mapped-Model"] == CHEAP
    assert (await resp.json())["model"] == "claude-sonnet-4-6"
    [call] = fake_google.calls("streamGenerateContent")
    assert call.body["model"] == CHEAP
    assert call.body["request"]["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 0}
    normal = await client.post("/v1/messages", headers=AUTH, json=body("claude-sonnet-4-6"))
    assert normal.headers["X-Mapped-Model"] == "claude-sonnet-4-6"


async def test_pings_fill_long_silences(client, fake_google, monkeypatch) -> None:
    monkeypatch.setattr(anthropic_routes, "PING_EVERY", 0.05)
    fake_google.script(Reply(text("slow but sure", chunks=3), delay(between_chunks=0.25)))
    resp = await client.post("/v1/messages", headers=AUTH, json=body(stream=True))
    frames = sse(await resp.text())
    names = [n for n, _ in frames]
    assert "ping" in names[names.index("content_block_start") : names.index("content_block_stop")]
    assert ("ping", {"type": "ping"}) in frames and names[-1] == "message_stop"
    text_out = "".join(d["delta"].get("text", "") for n, d in frames if n == "content_block_delta")
    assert text_out == "slow but sure"


async def test_a_client_leaving_during_a_silence(client, fake_google, monkeypatch) -> None:
    monkeypatch.setattr(anthropic_routes, "PING_EVERY", 0.05)
    fake_google.script(Reply(text("never finished", chunks=4), delay(between_chunks=0.5)))
    resp = await client.post("/v1/messages", headers=AUTH, json=body(stream=True))
    while b"event: ping" not in await resp.content.readline():
        pass
    resp.close()
    await asyncio.sleep(0.1)
    fake_google.script(text("next one"))
    again = await client.post("/v1/messages", headers=AUTH, json=body())
    assert (await again.json())["content"][0]["text"] == "next one"


async def test_a_stream_that_breaks_ends_with_an_error_event(client, fake_google) -> None:
    fake_google.script(Reply(text("partial answer", chunks=4), BrokenStream(after_chunks=2)))
    resp = await client.post("/v1/messages", headers=AUTH, json=body(stream=True))
    assert resp.status == 200
    name, data = sse(await resp.text())[-1]
    assert name == "error" and data["type"] == "error"
    assert data["error"]["type"] == "api_error" and data["error"]["message"]
    assert (await client.get("/healthz", headers=AUTH)).status == 200


@pytest.mark.parametrize("fault", [validation_required, permission_denied])
async def test_forbidden_everywhere_is_never_a_403(client, fake_google, fault) -> None:
    """A 401/403 would send Claude Code to its login screen: the upstream's 403 on every
    account is a 503, on this request and on the next while the accounts cool down."""
    fake_google.script(*[fault()] * 3)
    for _ in range(2):
        resp = await client.post("/v1/messages", headers=AUTH, json=body())
        assert resp.status == 503
        error = (await resp.json())["error"]
        assert error["type"] != "authentication_error" and error["message"]


async def test_rate_limits_are_rate_limit_errors(client, fake_google) -> None:
    fake_google.script(*[quota_exhausted("gemini-3-flash")] * 3)
    resp = await client.post("/v1/messages", headers=AUTH, json=body())
    assert resp.status == 429 and "Retry-After" in resp.headers
    assert (await resp.json())["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize(
    ("payload", "status", "kind", "needle"),
    [
        (b"{nope", 400, "invalid_request_error", "not valid JSON"),
        ({"model": "gemini-3-flash", "messages": [{"role": "user", "content": "x"}]}, 400,
         "invalid_request_error", "max_tokens"),
        (body(max_tokens=-1), 400, "invalid_request_error", "max_tokens"),
        (body(messages=[{"role": "user", "content": [{"type": "hologram"}]}]), 400,
         "invalid_request_error", "messages[0].content[0].type"),
        (body(messages=[{"role": "user", "content": [{"type": "tool_result"}]}]), 400,
         "invalid_request_error", "messages[0].content[0].tool_use_id"),
        (body(model="no-such-model"), 404, "not_found_error", "no-such-model"),
    ],
)  # fmt: skip
async def test_bad_requests(client, fake_google, payload, status, kind, needle) -> None:
    kwargs = {"data": payload} if isinstance(payload, bytes) else {"json": payload}
    headers = {**AUTH, "Content-Type": "application/json"}  # raw bytes are sent as JSON
    resp = await client.post("/v1/messages", headers=headers, **kwargs)
    assert resp.status == status
    error = await resp.json()
    assert error["type"] == "error" and error["error"]["type"] == kind
    assert needle in error["error"]["message"]
    assert fake_google.calls("streamGenerateContent") == []
    fake_google.script(text("still fine"))
    assert (await client.post("/v1/messages", headers=AUTH, json=body())).status == 200


async def test_image_blocks_reach_the_upstream_inline(client, fake_google, aiohttp_server) -> None:
    png = b"\x89PNG\r\n\x1a\n-fake-pixels"

    async def cat(_: web.Request) -> web.Response:
        return web.Response(body=png, content_type="image/png")

    images = web.Application()
    images.router.add_get("/cat.png", cat)
    server = await aiohttp_server(images)
    content = [
        {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/"}},
        {"type": "image", "source": {"type": "url", "url": str(server.make_url("/cat.png"))}},
        {"type": "text", "text": "What are these?"},
    ]
    ask = body(messages=[{"role": "user", "content": content}])
    assert (await client.post("/v1/messages", headers=AUTH, json=ask)).status == 200
    parts = upstream(fake_google)["contents"][0]["parts"]
    assert parts[0] == {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/"}}
    assert parts[1]["inlineData"]["data"] == base64.b64encode(png).decode()
    missing = {**content[1], "source": {"type": "url", "url": str(server.make_url("/no.png"))}}
    resp = await client.post("/v1/messages", headers=AUTH, json=body(messages=[
        {"role": "user", "content": [missing]}]))  # fmt: skip
    assert resp.status == 400
    assert "messages[0].content[0].source.url" in (await resp.json())["error"]["message"]
