"""`[zai]` dispatch in-process: exclusive passthrough, fallback when Google is exhausted, pooled."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from antigravity_gateway.app import build_app
from antigravity_gateway.settings import Settings
from tests.fakes import quota_exhausted
from tests.fakes.cloudcode import FakeGoogle
from tests.fakes.keyed import FakeKeyed
from tests.fakes.keyed_render import call_tool, say

from .test_pipeline import _enroll, _settings

AUTH = {"x-api-key": "sk-test-key-0123456789"}
EMAIL = "a@example.com"


@pytest.fixture
async def zai():
    fake = FakeKeyed(keys={"zai-key-1"})
    await fake.start()
    yield fake
    await fake.stop()


def _with_zai(base: Settings, zai: FakeKeyed, mode: str, **extra: Any) -> Settings:
    raw = msgspec.to_builtins(base)
    raw["proxy"]["max_wait_seconds"] = 0
    raw["zai"] = {"enabled": True, "api_key": "zai-key-1", "base_url": zai.url("/zai"),
                  "dispatch_mode": mode, **extra}
    return msgspec.convert(raw, Settings)


async def _client(fake_google: FakeGoogle, zai: FakeKeyed, tmp_path, aiohttp_client, mode: str,
                  accounts: tuple[str, ...] = (EMAIL,)):
    base = await _enroll(fake_google, tmp_path, *accounts) if accounts else _settings(fake_google)
    return await aiohttp_client(build_app(_with_zai(base, zai, mode), tmp_path))


def _ask(content: Any, **extra: Any) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-5", "max_tokens": 2048,
            "messages": [{"role": "user", "content": content}], **extra}


async def test_exclusive_passes_the_body_through_with_signatures_intact(
    fake_google, zai, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, zai, tmp_path, aiohttp_client, "exclusive")
    zai.script(call_tool("Bash", {"command": "ls"}, thinking="Let me list."), say("Two files."))
    content = [{"type": "text", "text": "list files", "cache_control": {"type": "ephemeral"}}]
    thinking = {"type": "enabled", "budget_tokens": 1024}
    tools = [{"name": "Bash", "input_schema": {"type": "object"}}]
    resp = await client.post("/v1/messages", headers=AUTH,
                             json=_ask(content, thinking=thinking, tools=tools))
    assert resp.status == 200, await resp.text()
    assert resp.headers["X-Mapped-Model"] == "zai/glm-4.7"
    assert resp.headers["X-Account-Email"] == "zai"
    first = await resp.json()
    [call] = zai.calls("anthropic")
    assert call.path == "/zai/api/anthropic/v1/messages"
    assert call.body["model"] == "glm-4.7" and call.body["thinking"] == thinking
    assert call.body["messages"][0]["content"] == content  # cache_control intact
    tool_use = first["content"][-1]
    follow = {**_ask(content, thinking=thinking, tools=tools)}
    follow["messages"] += [
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use["id"],
                                      "content": "a.txt b.txt"}]},
    ]
    second = await client.post("/v1/messages", headers=AUTH, json=follow)
    assert second.status == 200, await second.text()  # the fake refuses foreign signatures
    assert (await second.json())["content"][0]["text"] == "Two files."
    replayed = zai.calls("anthropic")[1].body["messages"][1]["content"][0]
    assert replayed["type"] == "thinking" and replayed["signature"] in zai.signatures
    assert not fake_google.calls("streamGenerateContent")


async def test_fallback_uses_google_while_it_can_then_zai(
    fake_google, zai, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, zai, tmp_path, aiohttp_client, "fallback")
    resp = await client.post("/v1/messages", headers=AUTH, json=_ask("hi"))
    assert resp.status == 200 and resp.headers["X-Account-Email"] == EMAIL
    fake_google.script(quota_exhausted("claude-sonnet-4-6"))
    for _ in range(2):  # the account is now cooling: z.ai instead of a 429
        resp = await client.post("/v1/messages", headers=AUTH, json=_ask("hi"))
        assert resp.status == 200, await resp.text()
        assert resp.headers["X-Account-Email"] == "zai"
    assert len(zai.calls("anthropic")) == 2
    assert len(fake_google.calls("streamGenerateContent")) == 2


async def test_fallback_without_any_google_account(
    fake_google, zai, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, zai, tmp_path, aiohttp_client, "fallback", accounts=())
    resp = await client.post("/v1/messages", headers=AUTH, json=_ask("hi"))
    assert resp.status == 200 and resp.headers["X-Account-Email"] == "zai"


async def test_pooled_lets_both_serve(fake_google, zai, tmp_path, aiohttp_client) -> None:
    client = await _client(fake_google, zai, tmp_path, aiohttp_client, "pooled")
    served = []
    for _ in range(4):
        resp = await client.post("/v1/messages", headers=AUTH, json=_ask("hi"))
        assert resp.status == 200
        served.append(resp.headers["X-Account-Email"])
    assert served.count("zai") == 2 and served.count(EMAIL) == 2


async def test_only_anthropic_protocol_requests_are_dispatched(
    fake_google, zai, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, zai, tmp_path, aiohttp_client, "exclusive")
    body = {"model": "gemini-3-flash", "messages": [{"role": "user", "content": "hi"}]}
    resp = await client.post("/v1/chat/completions", headers=AUTH, json=body)
    assert resp.status == 200 and resp.headers["X-Account-Email"] == EMAIL
    assert not zai.calls()


async def test_model_mapping_and_count_tokens(fake_google, zai, tmp_path, aiohttp_client) -> None:
    base = await _enroll(fake_google, tmp_path, EMAIL)
    settings = _with_zai(base, zai, "exclusive", model_mapping={"claude-*": "glm-4.6"})
    client = await aiohttp_client(build_app(settings, tmp_path))
    resp = await client.post("/v1/messages", headers=AUTH, json=_ask("hi"))
    assert resp.headers["X-Mapped-Model"] == "zai/glm-4.6"
    counted = await client.post("/v1/messages/count_tokens", headers=AUTH, json=_ask("hi"))
    assert (await counted.json())["input_tokens"] > 0
    [count] = zai.calls("anthropic", "count")
    assert count.body["model"] == "glm-4.6"


async def test_a_refused_signature_is_retried_without_thinking(
    fake_google, zai, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, zai, tmp_path, aiohttp_client, "exclusive")
    body = _ask("hi")
    body["messages"] += [
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "old thoughts", "signature": "not-from-zai"},
            {"type": "text", "text": "hello"}]},
        {"role": "user", "content": "again"},
    ]
    resp = await client.post("/v1/messages", headers=AUTH, json=body)
    assert resp.status == 200, await resp.text()
    refused, accepted = zai.calls("anthropic")
    assert refused.status == 400 and accepted.status == 200
    assert [b["type"] for b in accepted.body["messages"][1]["content"]] == ["text"]
