"""`/v1/messages/count_tokens`: the upstream's count, else a local tokenizer; never a constant."""

from __future__ import annotations

from typing import Any

import pytest

from antigravity_gateway.core.messages import ChatRequest, Media, Message, Text, Tool
from antigravity_gateway.server import tokens
from tests.fakes import internal_error
from tests.fakes.cloudcode import FakeGoogle

from .anthropic_app import AUTH, anthropic_client


@pytest.fixture
async def client(fake_google: FakeGoogle, tmp_path, aiohttp_client):
    return await anthropic_client(aiohttp_client, fake_google, tmp_path)

ENGLISH = (
    "The gateway listens on a local port and forwards every request to one of several "
    "accounts. When an account runs out of quota, the next request goes to another one, and "
    "the first becomes usable again once its quota resets. Clients never notice the switch: "
    "they see one endpoint that speaks their protocol, whether that is the OpenAI chat format, "
    "the Anthropic messages format, or Google's own."
)


def ask(words: int, **extra: Any) -> dict[str, Any]:
    prompt = " ".join(ENGLISH.split()[:words])
    messages = [{"role": "user", "content": prompt}]
    return {"model": "claude-sonnet-4-6", "messages": messages, **extra}


async def test_the_upstream_counts(client, fake_google: FakeGoogle) -> None:
    small = await client.post("/v1/messages/count_tokens?beta=true", headers=AUTH, json=ask(5))
    large = await client.post("/v1/messages/count_tokens", headers=AUTH, json=ask(60))
    assert small.status == large.status == 200
    counts = [(await r.json())["input_tokens"] for r in (small, large)]
    assert 0 < counts[0] < counts[1]
    [first, _] = fake_google.calls("countTokens")
    assert first.body["request"]["model"] == "models/claude-sonnet-4-6"


async def test_a_local_count_when_the_upstream_cannot(client, fake_google: FakeGoogle) -> None:
    for host in ("sandbox", "daily", "prod"):
        fake_google.fail_host(host, internal_error(), times=None, method="countTokens")
    tools = [{"name": "Read", "input_schema": {"type": "object", "properties": {}}}]
    counts = []
    for body in (ask(5), ask(60), ask(60, tools=tools)):
        resp = await client.post("/v1/messages/count_tokens", headers=AUTH, json=body)
        assert resp.status == 200
        counts.append((await resp.json())["input_tokens"])
    assert 0 < counts[0] < counts[1] < counts[2]
    assert fake_google.calls("countTokens")  # it asked first
    fake_google.heal()


async def test_count_tokens_rejects_bad_bodies(client) -> None:
    resp = await client.post("/v1/messages/count_tokens", headers=AUTH, json={"model": "m"})
    assert resp.status == 400
    assert (await resp.json())["error"]["message"].startswith("messages")


def request(*texts: str, media: int = 0, tools: tuple[Tool, ...] = ()) -> ChatRequest:
    parts = (*(Text(text=t) for t in texts), *[Media(mime="image/png", data="AA==")] * media)
    return ChatRequest(model="m", messages=(Message(role="user", parts=parts),), tools=tools)


def test_a_real_tokenizer_not_a_character_ratio() -> None:
    assert tokens.count_text("hello world") == 2
    assert tokens.count_text("") == 0
    assert tokens.count_text(ENGLISH) == 79  # cl100k_base, as tiktoken counts it


@pytest.mark.parametrize("copies", [1, 4, 20])
def test_estimate_within_ten_percent_on_english_text(copies: int) -> None:
    text = " ".join([ENGLISH] * copies)
    estimate = tokens.estimate(request(text))
    assert abs(estimate - tokens.count_text(text)) <= 0.1 * tokens.count_text(text)


def test_estimate_counts_images_and_tools() -> None:
    base = tokens.estimate(request("look"))
    assert tokens.estimate(request("look", media=1)) == base + tokens.PER_MEDIA
    tool = Tool(name="Read", description="Reads a file", parameters={"type": "object"})
    assert tokens.estimate(request("look", tools=(tool,))) > base + tokens.PER_TOOL
