"""Scripting: tool calls, thinking + signatures, faults, broken streams, scopes, quota, records."""

from __future__ import annotations

import json

import aiohttp
import pytest

from tests.fakes import (
    BrokenStream,
    Disconnect,
    Fault,
    Reply,
    capacity_exhausted,
    delay,
    empty,
    finish,
    part,
    permission_denied,
    quota_exhausted,
    rate_limit_exceeded,
    text,
    thinking,
    tool_call,
    usage,
)
from tests.fakes_tests.helpers import EMAIL, Client, envelope, events

USER = {"role": "user", "parts": [{"text": "list files"}]}


def _parts(raw: bytes) -> list[dict]:
    return [
        p
        for e in events(raw)
        for p in e["response"].get("candidates", [{"content": {}}])[0]["content"].get("parts", [])
    ]


async def test_scripted_thinking_and_tool_call_gemini3(client: Client) -> None:
    client.fake.script(
        [thinking("Let me look."), tool_call("ls", {"dir": "."}), tool_call("cat", {"f": "a"})]
    )
    _, raw = await client.stream(envelope("gemini-3-flash"))
    parts = _parts(raw)
    assert "".join(p["text"] for p in parts if p.get("thought")) == "Let me look."
    calls = [p for p in parts if "functionCall" in p]
    assert calls[0]["functionCall"] == {"name": "ls", "args": {"dir": "."}}  # Gemini may omit ids
    assert (
        calls[0]["thoughtSignature"] and "thoughtSignature" not in calls[1]
    )  # only the first call is signed
    assert events(raw)[-1]["response"]["candidates"][0]["finishReason"] == "STOP"


async def test_scripted_claude_thinking_signature_and_tool_ids(client: Client) -> None:
    client.fake.script([thinking("Hmm."), tool_call("ls", {})])
    _, raw = await client.stream(envelope("claude-opus-4-6-thinking"))
    thoughts = [p for p in _parts(raw) if p.get("thought")]
    signature = thoughts[-1]["thoughtSignature"]
    assert all("thoughtSignature" not in p for p in thoughts[:-1])
    import base64

    assert base64.b64decode(signature).startswith(b"E")  # R-form: base64 of an E... string
    [call] = [p["functionCall"] for p in _parts(raw) if "functionCall" in p]
    assert call["id"].startswith("toolu_vrtx_")


async def _replay(client: Client, model: str, model_parts: list[dict]) -> tuple[int, dict]:
    model_turn = {"role": "model", "parts": model_parts}
    ids = [p["functionCall"].get("id") for p in model_parts if "functionCall" in p]
    answer = {
        "role": "user",
        "parts": [{"functionResponse": {"name": "ls", "id": i, "response": {"r": 1}}} for i in ids],
    }
    return await client.json("generateContent", envelope(model, USER, model_turn, answer))


async def test_gemini3_signature_rules(client: Client) -> None:
    client.fake.script([tool_call("ls", {"dir": "."})])
    _, raw = await client.stream(envelope("gemini-3-flash"))
    [issued] = [p for p in _parts(raw) if "functionCall" in p]
    assert (await _replay(client, "gemini-3-flash", [issued]))[0] == 200
    unsigned = {"functionCall": issued["functionCall"]}
    status, body = await _replay(client, "gemini-3-flash", [unsigned])
    assert (
        status == 400
        and "missing a thought_signature" in body["error"]["message"]
        and "default_api:ls" in body["error"]["message"]
    )
    status, body = await _replay(
        client, "gemini-3-flash", [{**unsigned, "thoughtSignature": "EhJmb3JnZWQ="}]
    )
    assert (status, body["error"]["message"]) == (400, "Corrupted thought signature.")
    sentinel = {**unsigned, "thought_signature": "skip_thought_signature_validator"}
    assert (await _replay(client, "gemini-3-flash", [sentinel]))[0] == 200
    assert (await _replay(client, "gemini-2.5-flash", [unsigned]))[
        0
    ] == 200  # 2.5 does not validate


async def test_claude_signature_rules(client: Client) -> None:
    client.fake.script([thinking("Hmm."), tool_call("ls", {}, id="toolu_1")])
    _, raw = await client.stream(envelope("claude-opus-4-6-thinking"))
    signature = [p for p in _parts(raw) if p.get("thought")][-1]["thoughtSignature"]
    call = {"functionCall": {"name": "ls", "args": {}, "id": "toolu_1"}}

    async def replay(sig: str | None) -> tuple[int, dict]:
        block = {"text": "Hmm.", "thought": True, **({"thoughtSignature": sig} if sig else {})}
        return await _replay(client, "claude-opus-4-6-thinking", [block, call])

    assert (await replay(signature))[0] == 200
    import base64

    assert (await replay(base64.b64decode(signature).decode()))[
        0
    ] == 200  # one-layer decoded E-form
    for bad in ("skip_thought_signature_validator", "RXJmb3JnZWQ="):
        status, body = await replay(bad)
        inner = json.loads(body["error"]["message"])
        assert (
            status == 400
            and inner["error"]["message"]
            == "messages.1.content.0: Invalid `signature` in `thinking` block"
        )
    assert (await replay(None))[0] == 400
    assert (
        await _replay(
            client,
            "gemini-3-flash",
            [{"text": "Hmm.", "thought": True, "thoughtSignature": signature}],
        )
    )[0] == 400


async def test_finish_usage_and_raw_parts(client: Client) -> None:
    client.fake.script(
        [
            text("cut"),
            part({"executableCode": {"code": "1"}}),
            finish("MAX_TOKENS"),
            usage(prompt=7, candidates=3, cached=2),
        ]
    )
    _, _, raw = await client.call("generateContent", envelope("gemini-2.5-flash"))
    response = json.loads(raw)["response"]
    assert response["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert response["usageMetadata"] == {
        "promptTokenCount": 7,
        "candidatesTokenCount": 3,
        "totalTokenCount": 10,
        "cachedContentTokenCount": 2,
    }
    assert response["candidates"][0]["content"]["parts"][1] == {"executableCode": {"code": "1"}}


async def test_stream_variants(client: Client) -> None:
    client.fake.script(
        Reply(text("abcdef", chunks=3), usage(mode="trailing"), finish(None)),
        Reply(text("ab"), crlf=True),
        empty(),
    )
    _, raw = await client.stream(envelope("gemini-2.5-flash"))
    chunks = events(raw)
    assert [p["text"] for p in _parts(raw)] == ["ab", "cd", "ef"]
    assert all("finishReason" not in c["response"].get("candidates", [{}])[0] for c in chunks)
    assert set(chunks[-1]["response"]) == {"usageMetadata", "modelVersion", "responseId"}
    _, crlf = await client.stream(envelope("gemini-2.5-flash"))
    assert crlf.endswith(b"}\r\n\r\n") and b"\n\n" not in crlf.replace(b"\r\n\r\n", b"")
    _, nothing = await client.stream(envelope("gemini-2.5-flash"))
    [only] = events(nothing)
    assert only["response"]["candidates"][0]["content"] == {"role": "model"}


async def test_scripted_fault_and_fifo_order(client: Client) -> None:
    client.fake.script(rate_limit_exceeded("gemini-3-flash"), text("second"))
    status, body = await client.json("generateContent", envelope())
    assert status == 429 and body["error"]["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
    _, _, raw = await client.call("generateContent", envelope())
    assert json.loads(raw)["response"]["candidates"][0]["content"]["parts"][0]["text"] == "second"
    assert client.fake.pending() == 0


async def test_scopes_pick_the_most_specific_queue(client: Client) -> None:
    client.fake.add_account("other@example.com")
    client.fake.script(text("global"))
    client.fake.script_for(text("for user1 on daily"), email=EMAIL, host="daily")
    other = client.fake.issue_token("other@example.com")

    async def answer(**options) -> str:
        _, _, raw = await client.call("generateContent", envelope(), **options)
        return json.loads(raw)["response"]["candidates"][0]["content"]["parts"][0]["text"]

    assert await answer(host="prod", token=other) == "global"
    assert await answer(host="daily") == "for user1 on daily"
    assert (await answer(host="daily")).startswith("Hello from")
    assert client.fake.pending() == 0


async def test_broken_stream_aborts_mid_stream(client: Client) -> None:
    client.fake.script(
        Reply(text("one two three four", chunks=4), BrokenStream(after_chunks=2)),
        BrokenStream(after_chunks=0),
    )
    url = client.fake.url("prod") + "/v1internal:streamGenerateContent?alt=sse"
    headers = {"Authorization": f"Bearer {client.token}"}
    received = b""
    with pytest.raises(aiohttp.ClientPayloadError):
        async with client.session.post(url, json=envelope(), headers=headers) as response:
            assert response.status == 200
            async for line in response.content:
                received += line
    assert received.count(b"data: ") == 2
    with pytest.raises(aiohttp.ClientPayloadError):
        async with client.session.post(
            client.fake.url("prod") + "/v1internal:generateContent",
            json=envelope(),
            headers=headers,
        ) as response:
            await response.read()


async def test_delays_and_disconnect(client: Client) -> None:
    client.fake.script(
        Reply(text("slow"), delay(between_chunks=0.01, before_headers=0.01)), Disconnect()
    )
    assert (await client.stream(envelope()))[0] == 200
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await client.call("generateContent", envelope())
    assert client.fake.received[-1].status is None


async def test_quota_limit_exhausts_and_reflects_in_model_list(client: Client) -> None:
    client.fake.add_account("q@example.com", limits={"gemini-3-flash": 2})
    token = client.fake.issue_token("q@example.com")
    statuses = [
        (await client.call("generateContent", envelope(), token=token))[0] for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    _, body = await client.json("generateContent", envelope(), token=token)
    info, retry = body["error"]["details"]
    assert info["reason"] == "QUOTA_EXHAUSTED" and info["metadata"]["model"] == "gemini-3-flash"
    _, models = await client.json("fetchAvailableModels", {}, token=token)
    quota = models["models"]["gemini-3-flash"]["quotaInfo"]
    assert (
        "remainingFraction" not in quota
        and quota["resetTime"] == info["metadata"]["quotaResetTimeStamp"]
    )
    assert float(retry["retryDelay"][:-1]) > 17000


async def test_quota_refills_after_reset() -> None:
    from tests.fakes import FakeGoogle

    clock = [1_000_000.0]
    fake = FakeGoogle(clock=lambda: clock[0])
    account = fake.add_account("a@example.com", limits={"m": 1})
    quota = account.quota_for("m", fake.now())
    quota.consume()
    assert quota.exhausted()
    clock[0] = quota.reset_at + 1
    assert not account.quota_for("m", fake.now()).exhausted()


async def test_host_faults_and_dead_hosts(client: Client) -> None:
    client.fake.fail_host("sandbox", capacity_exhausted(), times=1)
    client.fake.take_down("daily")
    assert (await client.call("generateContent", envelope(), host="sandbox"))[0] == 503
    assert (await client.call("generateContent", envelope(), host="sandbox"))[0] == 200
    for host in ("daily", "dead"):
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await client.call("generateContent", envelope(), host=host)
    client.fake.heal("daily")
    assert (await client.call("loadCodeAssist", {}, host="daily"))[0] == 200
    assert [r.host for r in client.fake.calls("generateContent")] == [
        "sandbox",
        "sandbox",
        "daily",
        "dead",
    ]


async def test_faults_for_other_methods_via_method_scope(client: Client) -> None:
    client.fake.script_for(
        quota_exhausted(), Fault(200, {"custom": True}), method="fetchAvailableModels"
    )
    client.fake.script_for(permission_denied(), method="countTokens", host="daily")
    assert (await client.call("fetchAvailableModels", {}))[0] == 429
    assert await client.json("fetchAvailableModels", {}) == (200, {"custom": True})
    assert (await client.call("fetchAvailableModels", {}))[0] == 200
    assert (await client.call("countTokens", {"request": {"contents": []}}, host="daily"))[0] == 403
    with pytest.raises(ValueError):
        client.fake.script_for(text("no"), method="loadCodeAssist")


async def test_recording(client: Client) -> None:
    await client.call("streamGenerateContent", envelope(), host="daily", query="?alt=sse")
    [record] = client.fake.calls("streamGenerateContent", host="daily", email=EMAIL)
    assert record.path == "/daily/v1internal:streamGenerateContent" and record.query == {
        "alt": "sse"
    }
    assert (
        record.headers["authorization"] == f"Bearer {client.token}" and record.http_method == "POST"
    )
    assert (
        record.model == "gemini-3-flash"
        and record.request["contents"][0]["parts"][0]["text"] == "hello there"
    )
    assert record.status == 200 and json.loads(record.raw) == record.body
    client.fake.clear_received()
    assert client.fake.received == []
