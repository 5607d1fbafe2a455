"""Chat completions, legacy completions and model lookup in-process against the simulator:
tool round trips, URL images (fetched, capped, timed out), in-stream errors, OpenAI's shapes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web

from antigravity_gateway.server import media
from tests.fakes import BrokenStream, Reply, text, tool_call
from tests.fakes.cloudcode import FakeGoogle

from .openai_app import AUTH, healthy, openai_client, sse_events

TOOL = {
    "type": "function",
    "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
}


@pytest.fixture
async def client(aiohttp_client, fake_google, tmp_path):
    return await openai_client(aiohttp_client, fake_google, tmp_path)


@pytest.fixture
async def images(aiohttp_server):
    async def cat(_: web.Request) -> web.Response:
        return web.Response(body=b"PNG!", content_type="image/png")

    async def big(_: web.Request) -> web.StreamResponse:
        return web.Response(body=b"x" * 64, content_type="image/jpeg")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(body=b"late")

    app = web.Application()
    for path, handler in (("/cat.png", cat), ("/big.jpg", big), ("/slow.png", slow)):
        app.router.add_get(path, handler)
    return await aiohttp_server(app)


async def _chat(client, *messages: dict[str, Any], **fields: Any):
    body = {"model": "gemini-3-flash", "messages": list(messages), **fields}
    return await client.post("/v1/chat/completions", headers=AUTH, json=body)


def _upstream(fake: FakeGoogle) -> dict[str, Any]:
    request: dict[str, Any] = fake.calls("streamGenerateContent")[-1].body["request"]
    return request


async def test_tool_round_trip(client, fake_google) -> None:
    fake_google.script(tool_call("lookup", {}), text("Done."))
    user = {"role": "user", "content": "look it up"}
    resp = await _chat(client, user, tools=[TOOL], tool_choice="required")
    first = (await resp.json())["choices"][0]
    assert first["finish_reason"] == "tool_calls"
    [call] = first["message"]["tool_calls"]
    assert _upstream(fake_google)["toolConfig"]["functionCallingConfig"]["mode"] == "ANY"
    result = {"role": "tool", "tool_call_id": call["id"], "content": "42"}
    resp = await _chat(client, user, first["message"], result, tools=[TOOL])
    assert (await resp.json())["choices"][0]["message"]["content"] == "Done."
    model_turn, answer = _upstream(fake_google)["contents"][1:]
    assert model_turn["parts"][0]["functionCall"]["id"] == call["id"]
    assert answer["parts"][0]["functionResponse"]["response"] == {"result": "42"}


def _image(url: str) -> dict[str, Any]:
    parts = [{"type": "text", "text": "what?"}, {"type": "image_url", "image_url": {"url": url}}]
    return {"role": "user", "content": parts}


async def test_image_url_is_fetched_and_inlined(client, fake_google, images) -> None:
    resp = await _chat(client, _image(str(images.make_url("/cat.png"))))
    assert resp.status == 200
    part = _upstream(fake_google)["contents"][0]["parts"][1]
    assert part == {"inlineData": {"mimeType": "image/png", "data": "UE5HIQ=="}}


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/missing.png", "no usable answer"), ("/big.jpg", "larger than"), ("/slow.png", "within")],
)
async def test_unusable_image_url_is_a_400(client, images, monkeypatch, path, reason) -> None:
    monkeypatch.setattr(media, "MAX_BYTES", 32)
    monkeypatch.setattr(media, "TIMEOUT", 0.2)
    resp = await _chat(client, _image(str(images.make_url(path))))
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["param"] == "messages[0].content[1].image_url.url"
    assert reason in error["message"]
    await healthy(client)


async def test_unreachable_host_is_a_400(client) -> None:
    resp = await _chat(client, _image("http://127.0.0.1:9/x.png"))
    assert resp.status == 400
    assert "could not fetch" in (await resp.json())["error"]["message"]


async def test_n_above_one_is_refused(client) -> None:
    resp = await _chat(client, {"role": "user", "content": "hi"}, n=2)
    assert resp.status == 400
    assert (await resp.json())["error"]["param"] == "n"


async def test_broken_stream_ends_with_an_error_chunk_and_done(client, fake_google) -> None:
    fake_google.script(Reply(text("a b c d e f", chunks=6), BrokenStream(after_chunks=3)))
    resp = await _chat(client, {"role": "user", "content": "hi"}, stream=True)
    raw = await resp.text()
    assert raw.endswith("data: [DONE]\n\n")
    assert sse_events(raw)[-1]["error"]["type"] == "api_error"
    await healthy(client)


async def test_legacy_completions(client, fake_google) -> None:
    fake_google.script(text("a test."), text("one two", chunks=2))
    body = {"model": "gemini-3-flash", "prompt": "This is", "echo": True}
    resp = await client.post("/v1/completions", headers=AUTH, json=body)
    done = await resp.json()
    assert done["object"] == "text_completion" and done["id"].startswith("cmpl-")
    assert done["choices"][0]["text"] == "This isa test."
    assert _upstream(fake_google)["contents"] == [{"role": "user", "parts": [{"text": "This is"}]}]
    body = {"model": "gemini-3-flash", "prompt": ["Count"], "stream": True}
    resp = await client.post("/v1/completions", headers=AUTH, json=body)
    chunks = sse_events(await resp.text())
    assert "".join(c["choices"][0]["text"] for c in chunks) == "one two"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_model_lookup(client) -> None:
    for name in ("gemini-3-flash", "gpt-4o"):
        resp = await client.get(f"/v1/models/{name}", headers=AUTH)
        assert resp.status == 200
        assert await resp.json() == {
            "id": name, "object": "model", "created": 1_706_745_600, "owned_by": "antigravity"
        }  # fmt: skip
    resp = await client.get("/v1/models/no-such-model", headers=AUTH)
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "model_not_found"


USER = {"role": "user", "content": "hi"}


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        ([{"role": "robot", "content": "x"}], "messages[0].role"),
        ([USER, {"role": "tool", "content": "42"}], "messages[1].tool_call_id"),
        ([_image("ftp://example.com/x.png")], "messages[0].content[1].image_url.url"),
        ([{"role": "user", "content": [{"type": "video"}]}], "messages[0].content[0].type"),
    ],
)
async def test_malformed_chat_is_an_openai_400(client, fake_google, messages, param) -> None:
    resp = await _chat(client, *messages)
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert error["message"].startswith(param)
    assert fake_google.calls("streamGenerateContent") == []
    await healthy(client)
