"""The outbound codecs of the API-key upstreams, pure: hub -> request bodies, SSE -> hub events.

Streams are the keyed fake's renderings (tests/fakes/keyed_render.py), which follow the real
services' event order; every decoded stream must pass `check` and assemble to the answer.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from antigravity_gateway.core.events import assemble, check
from antigravity_gateway.core.messages import (
    ChatRequest,
    Message,
    Reasoning,
    Signature,
    Text,
    Thinking,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
)
from antigravity_gateway.errors import UpstreamError
from antigravity_gateway.protocols.anthropic import outbound as anthropic
from antigravity_gateway.protocols.openai_chat import outbound as openai
from tests.fakes.keyed_render import Answer, anthropic_sse, call_tool, openai_sse, say

CALL = ToolCall(id="t1", name="Bash", arguments={"command": "ls"})
CONVERSATION = ChatRequest(
    model="m",
    system=(Text(text="Be brief."),),
    messages=(
        Message(role="user", parts=(Text(text="list"),)),
        Message(role="assistant", parts=(
            Thinking(text="hm", signature=Signature(value="zsig", family="other")),
            Thinking(text="google's", signature=Signature(value="g", family="gemini")),
            CALL)),
        Message(role="user", parts=(ToolResult(call_id="t1", name="Bash",
                                               content=(Text(text="a b"),)),)),
    ),
    tools=(Tool(name="Bash", parameters={"type": "object"}),),
    tool_choice=ToolChoice(mode="required"),
    reasoning=Reasoning(budget=2048),
    max_tokens=1000,
    temperature=0.5,
)


def _chunks(frames: list[bytes]) -> list[dict[str, Any]]:
    found = []
    for frame in frames:
        for line in frame.decode().splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                found.append(json.loads(line[6:]))
    return found


def _decode(decoder: Any, frames: list[bytes]) -> list[Any]:
    events = [e for chunk in _chunks(frames) for e in decoder.feed(chunk)]
    return check([*events, *decoder.close()])


def test_anthropic_request_from_the_hub() -> None:
    body = anthropic.encode_request(CONVERSATION, model="glm-4.7")
    assert body["model"] == "glm-4.7" and body["stream"] is True
    assert body["system"] == [{"type": "text", "text": "Be brief."}]
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] == 3048 and "temperature" not in body  # thinking needs defaults
    assert body["tool_choice"] == {"type": "any"}
    assistant = body["messages"][1]["content"]
    assert assistant[0] == {"type": "thinking", "thinking": "hm", "signature": "zsig"}
    assert [b["type"] for b in assistant] == ["thinking", "tool_use"]  # gemini's left out
    assert body["messages"][2]["content"][0]["tool_use_id"] == "t1"


def test_anthropic_passthrough_untags_our_signatures() -> None:
    raw = {"model": "claude-x", "max_tokens": 5, "messages": [
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "a", "signature": "other#zsig",
             "cache_control": {"type": "ephemeral"}},
            {"type": "thinking", "thinking": "b", "signature": "gemini#gsig"},
            {"type": "text", "text": "t"}]}]}
    body = anthropic.passthrough_request(raw, model="glm-4.7")
    assert body["model"] == "glm-4.7" and body["stream"] is True
    assert body["messages"][0]["content"] == [
        {"type": "thinking", "thinking": "a", "signature": "zsig",
         "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "t"}]
    assert raw["messages"][0]["content"][0]["signature"] == "other#zsig"  # not changed


@pytest.mark.parametrize("answer", [say("Hello there."), call_tool(
    "Bash", {"command": "ls"}, thinking="Let me look.", text="Looking.")], ids=["text", "tool"])
def test_anthropic_stream_decodes(answer: Answer) -> None:
    frames = anthropic_sse(answer, model="glm-4.7", n=1, signature="sig-1", input_tokens=12)
    response = assemble(_decode(anthropic.StreamDecoder(model="glm-4.7"), frames))
    assert response.text == answer.text and response.model == "glm-4.7"
    assert response.usage.input_tokens == 12 and response.usage.output_tokens == 7
    if answer.tool:
        thinking, _, call = response.parts
        assert isinstance(thinking, Thinking) and thinking.text == "Let me look."
        assert thinking.signature == Signature(value="sig-1", family="other")
        assert isinstance(call, ToolCall) and call.arguments == {"command": "ls"}
        assert response.finish_reason == "tool_use"


def test_anthropic_stream_error_event_is_an_upstream_error() -> None:
    decoder = anthropic.StreamDecoder()
    with pytest.raises(UpstreamError) as err:
        decoder.feed({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}})
    assert err.value.upstream_status == 529


def test_openai_request_from_the_hub() -> None:
    body = openai.encode_request(CONVERSATION, model="gpt-4o")
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assistant = body["messages"][2]
    assert assistant["content"] is None
    assert assistant["tool_calls"][0]["function"] == {"name": "Bash",
                                                      "arguments": '{"command":"ls"}'}
    assert body["messages"][3] == {"role": "tool", "tool_call_id": "t1", "content": "a b"}
    assert body["tool_choice"] == "required" and body["max_tokens"] == 1000
    assert "reasoning_effort" not in body  # a budget only: nothing to say in this format


@pytest.mark.parametrize("answer", [say("Hello there.", thinking="Mm."), call_tool(
    "Bash", {"command": "ls"})], ids=["text", "tool"])
def test_openai_stream_decodes(answer: Answer) -> None:
    frames = openai_sse(answer, model="gpt-4o", n=1, usage=True, input_tokens=12)
    response = assemble(_decode(openai.StreamDecoder(model="gpt-4o"), frames))
    assert response.text == answer.text and response.usage.input_tokens == 12
    if answer.thinking:
        assert response.parts[0] == Thinking(text="Mm.")
    if answer.tool:
        [call] = response.parts
        assert isinstance(call, ToolCall) and call.id == "call_fake1"
        assert call.arguments == {"command": "ls"} and response.finish_reason == "tool_use"


def test_openai_stream_error_chunk_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamError):
        openai.StreamDecoder().feed({"error": {"message": "boom"}})
