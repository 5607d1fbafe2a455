"""`/v1/responses` in-process against the simulator: JSON and SSE answers, the
previous_response_id store, the WebSocket refusal, URL media, and errors in OpenAI's shape."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from tests.fakes import BrokenStream, Reply, invalid_argument, text, thinking, tool_call
from tests.fakes.cloudcode import FakeGoogle

from .openai_app import AUTH, healthy, openai_client, sse_events

FN = {
    "type": "function",
    "name": "lookup",
    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
}


@pytest.fixture
async def client(aiohttp_client, fake_google, tmp_path):
    return await openai_client(aiohttp_client, fake_google, tmp_path)


async def _create(client, **fields: Any):
    return await client.post(
        "/v1/responses", headers=AUTH, json={"model": "gemini-3-flash", **fields}
    )


def _upstream(fake: FakeGoogle, n: int = -1) -> dict[str, Any]:
    request: dict[str, Any] = fake.calls("streamGenerateContent")[n].body["request"]
    return request


async def test_json_answer(client, fake_google) -> None:
    fake_google.script(text("Hello there."))
    resp = await _create(client, input="hi", instructions="Be brief.", max_output_tokens=50)
    assert resp.status == 200
    assert resp.headers["X-Mapped-Model"] == "gemini-3-flash" and resp.headers["X-Request-Id"]
    body = await resp.json()
    assert body["object"] == "response" and body["status"] == "completed"
    assert body["id"].startswith("resp_") and body["model"] == "gemini-3-flash"
    [message] = body["output"]
    assert message["content"][0]["text"] == "Hello there."
    assert body["usage"]["total_tokens"] > 0
    request = _upstream(fake_google)
    assert request["systemInstruction"]["parts"][0]["text"] == "Be brief."
    assert request["generationConfig"]["maxOutputTokens"] == 50


async def test_sse_answer(client, fake_google) -> None:
    fake_google.script([thinking("Hmm."), text("Hi!", chunks=2)])
    resp = await _create(client, input="hi", stream=True, reasoning={"summary": "auto"})
    assert resp.status == 200 and resp.content_type == "text/event-stream"
    raw = await resp.text()
    assert "event: response.created\n" in raw
    events = sse_events(raw)
    types = [e["type"] for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert "response.reasoning_summary_text.delta" in types
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    assert "".join(deltas) == "Hi!"
    assert _upstream(fake_google)["generationConfig"]["thinkingConfig"]["includeThoughts"]


async def test_previous_response_id_continues_a_tool_loop(client, fake_google) -> None:
    fake_google.script(tool_call("lookup", {"q": "x"}), text("Found it."))
    first = await (await _create(client, input="find x", tools=[FN])).json()
    [call] = first["output"]
    assert call["type"] == "function_call" and call["name"] == "lookup"
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "x=1"}
    resp = await _create(client, input=[output], tools=[FN], previous_response_id=first["id"])
    assert resp.status == 200
    second = await resp.json()
    assert second["output"][0]["content"][0]["text"] == "Found it."
    assert second["previous_response_id"] == first["id"]
    contents = _upstream(fake_google)["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"][0]["functionCall"]["name"] == "lookup"
    assert contents[2]["parts"][0]["functionResponse"]["response"] == {"result": "x=1"}
    stored = await client.get(f"/v1/responses/{second['id']}", headers=AUTH)
    assert (await stored.json())["output"] == second["output"]


async def test_streamed_answers_are_stored_too(client, fake_google) -> None:
    raw = await (await _create(client, input="hi", stream=True)).text()
    response_id = sse_events(raw)[-1]["response"]["id"]
    resp = await _create(client, input="again", previous_response_id=response_id)
    assert resp.status == 200
    assert [c["role"] for c in _upstream(fake_google)["contents"]] == ["user", "model", "user"]


@pytest.mark.parametrize("store", [False, None])
async def test_unknown_previous_response_id(client, store) -> None:
    previous = "resp_nope"
    if store is False:
        previous = (await (await _create(client, input="hi", store=False)).json())["id"]
    resp = await _create(client, input="hi", previous_response_id=previous)
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["param"] == "previous_response_id" and "unknown response id" in error["message"]
    missing = await client.get(f"/v1/responses/{previous}", headers=AUTH)
    assert missing.status == 404
    await healthy(client)


async def test_websocket_upgrade_is_refused_at_once(client) -> None:
    headers = {**AUTH, "Upgrade": "websocket", "Connection": "Upgrade"}
    resp = await client.get("/v1/responses", headers=headers)
    assert resp.status == 426
    assert "HTTP POST" in (await resp.json())["error"]["message"]
    await healthy(client)


BAD = [
    ({"input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
    ({"input": [{"type": "function_call_output", "output": "x"}]}, "input[0].call_id"),
    ({"input": [{"type": "hologram"}]}, "input[0].type"),
    ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "nope"}]}]},
     "input[0].content[0].image_url"),
    ({"input": "hi", "tools": [{"type": "robot", "name": "r"}]}, "tools[0].type"),
    ({"input": "hi", "text": {"format": {"type": "yaml"}}}, "text.format.type"),
]  # fmt: skip


@pytest.mark.parametrize(("fields", "param"), BAD)
async def test_bad_requests_are_openai_400s(client, fake_google, fields, param) -> None:
    resp = await _create(client, **fields)
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert param in error["message"]
    assert fake_google.calls("streamGenerateContent") == []
    await healthy(client)


async def test_upstream_refusal_before_the_stream(client, fake_google) -> None:
    fake_google.script(invalid_argument("Request contains an invalid argument."))
    resp = await _create(client, input="hi", stream=True)
    assert resp.status == 400
    assert (await resp.json())["error"]["type"] == "invalid_request_error"


async def test_broken_stream_ends_in_response_failed(client, fake_google) -> None:
    fake_google.script(Reply(text("a b c d e f", chunks=6), BrokenStream(after_chunks=3)))
    resp = await _create(client, input="hi", stream=True)
    events = sse_events(await resp.text())
    assert events[-1]["type"] == "response.failed"
    failed = events[-1]["response"]
    assert failed["status"] == "failed" and failed["error"]["code"] == "server_error"
    await healthy(client)


async def test_image_urls_are_fetched(client, fake_google, aiohttp_server) -> None:
    async def cat(_: web.Request) -> web.Response:
        return web.Response(body=b"PNG!", content_type="image/png")

    app = web.Application()
    app.router.add_get("/cat.png", cat)
    images = await aiohttp_server(app)
    good, bad = str(images.make_url("/cat.png")), str(images.make_url("/dog.png"))
    parts = [{"type": "input_text", "text": "what?"}, {"type": "input_image", "image_url": good}]
    resp = await _create(client, input=[{"role": "user", "content": parts}])
    assert resp.status == 200
    inline = _upstream(fake_google)["contents"][0]["parts"][1]["inlineData"]
    assert inline == {"mimeType": "image/png", "data": "UE5HIQ=="}
    parts[1]["image_url"] = bad
    resp = await _create(client, input=[{"role": "user", "content": parts}])
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["param"] == "input[0].content[1].image_url"
    assert "no usable answer" in error["message"]


async def test_claude_thinking_round_trips_through_encrypted_content(client, fake_google) -> None:
    fake_google.script([thinking("Plan."), tool_call("lookup", {"q": "x"})], text("Done."))
    settings = {"model": "claude-sonnet-4-6", "tools": [FN], "store": False}
    settings |= {"include": ["reasoning.encrypted_content"], "reasoning": {"effort": "low"}}
    history: list[Any] = [{"role": "user", "content": "find x"}]
    resp = await client.post("/v1/responses", headers=AUTH, json={**settings, "input": history})
    first = await resp.json()
    reasoning, call = first["output"]
    assert reasoning["summary"] == [] and reasoning["encrypted_content"].startswith("agm1:")
    history += [reasoning, call]
    history.append({"type": "function_call_output", "call_id": call["call_id"], "output": "1"})
    resp = await client.post("/v1/responses", headers=AUTH, json={**settings, "input": history})
    assert resp.status == 200, await resp.text()
    model_turn = _upstream(fake_google)["contents"][1]["parts"]
    assert model_turn[0]["thought"] is True and model_turn[0]["thoughtSignature"]
    assert "thinkingConfig" in _upstream(fake_google)["generationConfig"]
