"""API-key upstreams in-process against the keyed fake: routing, key rotation, faults, z.ai."""

from __future__ import annotations

import json
import time
from typing import Any

import msgspec
import pytest

from antigravity_gateway.app import build_app
from antigravity_gateway.server.context import GATEWAY
from antigravity_gateway.server.upstreams import BAD_KEY_COOLDOWN
from antigravity_gateway.settings import Settings
from tests.fakes.keyed import FakeKeyed
from tests.fakes.keyed_render import call_tool, fault, garbage, say

from .helpers import KEY

AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
async def keyed():
    fake = FakeKeyed(keys={"k-good-1", "k-good-2"})
    await fake.start()
    yield fake
    await fake.stop()


def _settings(fake: FakeKeyed, *upstreams: dict[str, Any], **sections: Any) -> Settings:
    raw = {"proxy": {"api_key": KEY, "auth_mode": "strict", "max_wait_seconds": 0},
           "upstreams": list(upstreams), **sections}
    return msgspec.convert(raw, Settings)


def _up(fake: FakeKeyed, name: str, kind: str, prefix: str, keys: list[str],
        models: list[str]) -> dict[str, Any]:
    return {"name": name, "kind": kind, "base_url": fake.url(prefix), "api_keys": keys,
            "models": models}


async def _client(aiohttp_client, tmp_path, settings: Settings):
    return await aiohttp_client(build_app(settings, tmp_path))


async def _chat(client, model: str, content: str = "hi", **extra: Any):
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    return await client.post("/v1/chat/completions", headers=AUTH, json=body)


async def test_openai_kind_serves_its_globs_and_lists_its_models(
    keyed, aiohttp_client, tmp_path
) -> None:
    up = _up(keyed, "oa", "openai", "/oa/v1", ["k-good-1"], ["gpt-4o", "llama-*"])
    client = await _client(aiohttp_client, tmp_path, _settings(keyed, up))
    keyed.script(say("hello from the openai upstream"))
    resp = await _chat(client, "gpt-4o")
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["choices"][0]["message"]["content"] == (
        "hello from the openai upstream")
    assert resp.headers["X-Mapped-Model"] == "oa/gpt-4o"
    assert resp.headers["X-Account-Email"] == "oa"
    [call] = keyed.calls("openai")
    assert call.body["model"] == "gpt-4o" and call.body["stream"] is True
    assert call.headers["Authorization"] == "Bearer k-good-1"
    assert (await _chat(client, "llama-3-70b")).headers["X-Mapped-Model"] == "oa/llama-3-70b"
    listed = await (await client.get("/v1/models", headers=AUTH)).json()
    assert "gpt-4o" in {m["id"] for m in listed["data"]}


async def test_a_mapping_target_names_an_upstream(keyed, aiohttp_client, tmp_path) -> None:
    up = _up(keyed, "router", "openai", "/r/v1", ["k-good-1"], [])
    settings = _settings(keyed, up, models={"custom_mapping": {"fast": "router/openai/gpt-4o"}})
    client = await _client(aiohttp_client, tmp_path, settings)
    resp = await _chat(client, "fast")
    assert resp.status == 200
    assert resp.headers["X-Mapped-Model"] == "router/openai/gpt-4o"
    [call] = keyed.calls("openai")
    assert call.body["model"] == "openai/gpt-4o"
    direct = await _chat(client, "router/some-model")
    assert direct.headers["X-Mapped-Model"] == "router/some-model"


@pytest.mark.parametrize(
    "failure",
    [fault(429, "slow down", retry_after=30), fault(500, "boom"), fault(503, "overloaded"),
     garbage()],
    ids=["429", "500", "503", "garbage"],
)
async def test_a_failing_key_passes_to_the_next(keyed, aiohttp_client, tmp_path, failure) -> None:
    up = _up(keyed, "oa", "openai", "/oa/v1", ["k-good-1", "k-good-2"], ["gpt-*"])
    client = await _client(aiohttp_client, tmp_path, _settings(keyed, up))
    keyed.script(failure, say("second key"))
    resp = await _chat(client, "gpt-4o")
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["choices"][0]["message"]["content"] == "second key"
    first, second = keyed.calls("openai")
    assert first.key != second.key
    assert resp.headers["X-Account-Email"] == ("oa#1" if second.key == "k-good-1" else "oa#2")
    lane = client.server.app[GATEWAY].upstreams.lanes["oa"]
    if failure.status == 429:
        [cooldown] = lane.pool.cooldowns()
        assert cooldown.model == "gpt-4o" and cooldown.until == pytest.approx(
            time.time() + 30, abs=5)


async def test_a_bad_key_is_cooled_and_the_next_one_serves(
    keyed, aiohttp_client, tmp_path
) -> None:
    up = _up(keyed, "g", "gemini", "/gem", ["k-bad", "k-good-1"], ["gemini-2.5-*"])
    client = await _client(aiohttp_client, tmp_path, _settings(keyed, up))
    for _ in range(3):
        resp = await _chat(client, "gemini-2.5-pro")
        assert resp.status == 200, await resp.text()
    statuses = [(c.key, c.status) for c in keyed.calls("gemini")]
    assert statuses.count(("k-bad", 400)) == 1  # tried once, then kept out
    [cooldown] = client.server.app[GATEWAY].upstreams.lanes["g"].pool.cooldowns()
    assert cooldown.email == "g#1" and cooldown.until == pytest.approx(
        time.time() + BAD_KEY_COOLDOWN, abs=5)


async def test_every_key_failing_answers_in_the_clients_protocol(
    keyed, aiohttp_client, tmp_path
) -> None:
    up = _up(keyed, "an", "anthropic", "/an", ["k-bad"], ["claude-*"])
    client = await _client(aiohttp_client, tmp_path, _settings(keyed, up))
    body = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    resp = await client.post("/v1/messages", headers=AUTH, json=body)
    assert resp.status == 503
    answer = await resp.json()
    assert answer["type"] == "error"
    assert "every key was refused by upstream an (401)" in answer["error"]["message"]
    assert (await client.get("/healthz", headers=AUTH)).status == 200


async def test_unknown_model_is_a_404_listing_what_exists(keyed, aiohttp_client, tmp_path) -> None:
    up = _up(keyed, "oa", "openai", "/oa/v1", ["k-good-1"], ["gpt-4o", "gpt-4o-mini"])
    client = await _client(aiohttp_client, tmp_path, _settings(keyed, up))
    resp = await _chat(client, "no-such-model")
    assert resp.status == 404
    message = (await resp.json())["error"]["message"]
    assert "no-such-model" in message and "gpt-4o, gpt-4o-mini" in message
    gemini = await client.post("/v1beta/models/no-such-model:generateContent", headers=AUTH,
                               json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}]})
    assert gemini.status == 404 and (await gemini.json())["error"]["status"] == "NOT_FOUND"
    claude = await client.post("/v1/messages", headers=AUTH, json={
        "model": "no-such-model", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]})
    answer = await claude.json()
    assert claude.status == 404 and answer["error"]["type"] == "not_found_error"
    assert "gpt-4o-mini" in answer["error"]["message"]


async def test_openai_client_reaches_an_anthropic_upstream_with_tools(
    keyed, aiohttp_client, tmp_path
) -> None:
    up = _up(keyed, "an", "anthropic", "/an", ["k-good-1"], ["claude-*"])
    client = await _client(aiohttp_client, tmp_path, _settings(keyed, up))
    keyed.script(call_tool("get_weather", {"city": "Paris"}, thinking="Weather needed."),
                 say("It is sunny in Paris."))
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}]
    first = await (await _chat(client, "claude-x", "weather in Paris?", tools=tools)).json()
    call = first["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    messages = [{"role": "user", "content": "weather in Paris?"}, first["choices"][0]["message"],
                {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
    resp = await client.post("/v1/chat/completions", headers=AUTH,
                             json={"model": "claude-x", "messages": messages, "tools": tools})
    assert (await resp.json())["choices"][0]["message"]["content"] == "It is sunny in Paris."
    sent = keyed.calls("anthropic")[1].body
    assert sent["messages"][1]["content"][-1]["type"] == "tool_use"
    assert sent["messages"][2]["content"][0] == {
        "type": "tool_result", "tool_use_id": call["id"],
        "content": [{"type": "text", "text": "sunny"}], "is_error": False}
    assert sent["tools"][0]["input_schema"]["properties"]["city"] == {"type": "string"}


async def test_count_tokens_asks_an_anthropic_upstream(keyed, aiohttp_client, tmp_path) -> None:
    up = _up(keyed, "an", "anthropic", "/an", ["k-good-1"], ["claude-*"])
    client = await _client(aiohttp_client, tmp_path, _settings(keyed, up))
    body = {"model": "claude-x", "messages": [{"role": "user", "content": "count me " * 50}]}
    resp = await client.post("/v1/messages/count_tokens", headers=AUTH, json=body)
    [call] = keyed.calls("anthropic", "count")
    assert (await resp.json())["input_tokens"] == max(1, len(json.dumps(call.body)) // 4)
    assert call.body["messages"] == body["messages"] and "stream" not in call.body
