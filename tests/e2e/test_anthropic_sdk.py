"""The real anthropic SDK against `agm serve`, with the simulator as Google."""

from __future__ import annotations

import base64
from typing import Any

import anthropic
import pytest

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import text, thinking, tool_call
from tests.fakes.cloudcode import FakeGoogle

WEATHER = {
    "name": "get_weather",
    "description": "The current weather of a city",
    "input_schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}


@pytest.fixture(params=["bearer", "x-api-key"])
def client(request: pytest.FixtureRequest, gateway: Gateway) -> anthropic.Anthropic:
    """SDK 2.x sends `Authorization: Bearer <api_key>`; Claude Code sends `x-api-key`."""
    if request.param == "bearer":
        return anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)
    return anthropic.Anthropic(
        base_url=gateway.url, api_key=None, default_headers={"x-api-key": API_KEY}, max_retries=0
    )


def upstream(fake: FakeGoogle) -> dict[str, Any]:
    return fake.calls("streamGenerateContent")[-1].body["request"]


def test_non_stream(client: anthropic.Anthropic, fake: FakeGoogle) -> None:
    fake.script(text("The sky is blue.", chunks=3))
    message = client.messages.create(
        model="gemini-3-flash",
        max_tokens=200,
        system="Be brief.",
        messages=[{"role": "user", "content": "What colour is the sky?"}],
        stop_sequences=["END"],
        extra_body={"temperature": 0.2},  # SDK 2.x no longer has the parameter; the API does
    )
    assert message.content[0].type == "text" and message.content[0].text == "The sky is blue."
    assert message.stop_reason == "end_turn" and message.id.startswith("msg_")
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    request = upstream(fake)
    assert request["systemInstruction"]["parts"][0]["text"] == "Be brief."
    assert request["generationConfig"]["stopSequences"] == ["END"]
    assert request["generationConfig"]["temperature"] == 0.2


def test_stream_helper(client: anthropic.Anthropic, fake: FakeGoogle) -> None:
    fake.script(text("one two three four", chunks=4))
    with client.messages.stream(
        model="claude-sonnet-4-6",
        max_tokens=200,
        messages=[{"role": "user", "content": "count"}],
    ) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == "one two three four" and len(pieces) >= 2
    assert final.content[0].text == "one two three four"  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


def test_tool_round_trip(client: anthropic.Anthropic, fake: FakeGoogle) -> None:
    fake.script([tool_call("get_weather", {"city": "Oslo"})], text("4°C and rain in Oslo."))
    ask: list[Any] = [{"role": "user", "content": "Weather in Oslo?"}]
    first = client.messages.create(
        model="gemini-3-flash", max_tokens=500, tools=[WEATHER], messages=ask
    )
    assert first.stop_reason == "tool_use"
    [use] = [b for b in first.content if b.type == "tool_use"]
    assert use.name == "get_weather" and use.input == {"city": "Oslo"}
    result = {"type": "tool_result", "tool_use_id": use.id, "content": "4°C, rain"}
    history = [
        *ask,
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [result]},
    ]
    second = client.messages.create(
        model="gemini-3-flash", max_tokens=500, tools=[WEATHER], messages=history
    )
    assert second.content[0].text == "4°C and rain in Oslo."  # type: ignore[union-attr]
    contents = upstream(fake)["contents"]
    assert contents[1]["parts"][0]["functionCall"]["name"] == "get_weather"
    response = contents[2]["parts"][0]["functionResponse"]
    assert response["name"] == "get_weather" and response["response"] == {"result": "4°C, rain"}


def test_thinking_signature_is_replayed(client: anthropic.Anthropic, fake: FakeGoogle) -> None:
    fake.script([thinking("Sky colour: Rayleigh."), text("Blue.")], text("Because of scattering."))
    ask: list[Any] = [{"role": "user", "content": "Sky colour?"}]
    config: dict[str, Any] = {"type": "enabled", "budget_tokens": 2048}
    with client.messages.stream(
        model="claude-sonnet-4-6", max_tokens=4096, thinking=config, messages=ask  # type: ignore[arg-type]
    ) as stream:
        first = stream.get_final_message()
    block = first.content[0]
    assert block.type == "thinking" and block.thinking == "Sky colour: Rayleigh."
    assert block.signature
    history = [
        *ask,
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": "Why?"},
    ]
    second = client.messages.create(
        model="claude-sonnet-4-6", max_tokens=4096, thinking=config, messages=history  # type: ignore[arg-type]
    )
    assert second.content[-1].text == "Because of scattering."  # type: ignore[union-attr]
    [_, replay] = fake.calls("streamGenerateContent")
    assert replay.status == 200  # the simulator checks Claude's thinking signatures
    thought = replay.body["request"]["contents"][1]["parts"][0]
    assert thought["thought"] is True and block.signature.endswith(thought["thoughtSignature"])


def test_image_block(client: anthropic.Anthropic, fake: FakeGoogle) -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}}
    message = client.messages.create(
        model="gemini-3-flash",
        max_tokens=100,
        messages=[{"role": "user", "content": [image, {"type": "text", "text": "What is it?"}]}],  # type: ignore[list-item]
    )
    assert message.content
    parts = upstream(fake)["contents"][0]["parts"]
    assert parts[0] == {"inlineData": {"mimeType": "image/png", "data": png}}


def test_count_tokens_is_real(client: anthropic.Anthropic) -> None:
    def count(prompt: str) -> int:
        messages: Any = [{"role": "user", "content": prompt}]
        counted = client.messages.count_tokens(model="claude-sonnet-4-6", messages=messages)
        return counted.input_tokens

    short, long = count("hello"), count("hello " * 400)
    assert 0 < short < long


def test_errors_in_anthropic_shape(client: anthropic.Anthropic, gateway: Gateway) -> None:
    hi: Any = [{"role": "user", "content": "hi"}]
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="no-such-model", max_tokens=10, messages=hi)
    with pytest.raises(anthropic.BadRequestError) as bad:
        client.messages.create(model="gemini-3-flash", max_tokens=-1, messages=hi)
    assert "max_tokens" in str(bad.value)
    wrong = anthropic.Anthropic(base_url=gateway.url, api_key="sk-wrong-key-123", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        wrong.messages.create(model="gemini-3-flash", max_tokens=10, messages=hi)
