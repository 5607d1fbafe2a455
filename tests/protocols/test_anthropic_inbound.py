"""The Anthropic codec: request decoding and its 400s, signatures, errors, the stream encoder."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antigravity_gateway.core.events import Finish, PartEnd, PartStart, Start, TextDelta, replay
from antigravity_gateway.core.messages import (
    ChatResponse,
    Reasoning,
    Signature,
    Text,
    Thinking,
    ToolCall,
    ToolResult,
    Usage,
)
from antigravity_gateway.errors import (
    InvalidRequest,
    NoAccount,
    Unauthorized,
    UnknownModel,
    UpstreamError,
)
from antigravity_gateway.protocols.anthropic import inbound
from antigravity_gateway.protocols.anthropic.blocks import decode_signature, encode_signature
from antigravity_gateway.protocols.anthropic.stream import StreamEncoder

from .test_openai_chat_inbound import json_values, mostly

USE = {"type": "tool_use", "id": "t1", "name": "ls", "input": {}}
RESULT = {"type": "tool_result", "tool_use_id": "t1", "content": "a.txt"}


def body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-6",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
        **extra,
    }


def turns(*messages: tuple[str, Any]) -> list[dict[str, Any]]:
    return [{"role": role, "content": content} for role, content in messages]


def convo(*messages: tuple[str, Any]) -> dict[str, Any]:
    return body(messages=turns(*messages))


def image(source: dict[str, Any]) -> dict[str, Any]:
    return convo(("user", [{"type": "image", "source": source}]))


CALLED = (("user", "x"), ("assistant", [USE]))  # a conversation waiting for t1's result
ANSWER = "messages[2].content[0]"  # the tool_result that answers CALLED
SECOND = "messages[3].content[0].tool_use_id"
NESTED = {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "tool_use"}]}


@pytest.mark.parametrize(
    ("request_body", "path"),
    [
        ({"model": "m", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
        (body(max_tokens=-5), "max_tokens"),
        (body(max_tokens=0), "max_tokens"),
        (body(max_tokens="10"), "max_tokens"),
        (body(model=""), "model"),
        (body(messages=[]), "messages"),
        (body(messages="hi"), "messages"),
        (convo(("system", "only system")), "messages"),
        (convo(("bot", "x")), "messages[0].role"),
        (body(messages=[{"content": "x"}]), "messages[0].role"),
        (convo(("user", [{"type": "video"}])), "messages[0].content[0].type"),
        (convo(("user", [{"text": "x"}])), "messages[0].content[0].type"),
        (convo(("user", [USE])), "messages[0].content[0].type"),
        (convo(("user", "x"), ("assistant", [RESULT])), "messages[1].content[0].type"),
        (convo(*CALLED, ("user", [{**RESULT, "tool_use_id": None}])), f"{ANSWER}.tool_use_id"),
        (convo(*CALLED, ("user", [{"type": "tool_result"}])), f"{ANSWER}.tool_use_id"),
        # a result that answers no tool_use of the previous assistant message
        (convo(("user", [{**RESULT, "tool_use_id": "no"}])), "messages[0].content[0].tool_use_id"),
        # turns no merge can repair: the call is not answered by the next message
        (convo(*CALLED, ("user", "y"), ("assistant", "z"), ("user", [RESULT])), "messages[2]"),
        (convo(*CALLED, ("user", [RESULT]), ("user", [RESULT])), SECOND),
        (image({"type": "file", "file_id": "f"}), "messages[0].content[0].source"),
        (image({"type": "url", "url": "ftp://x"}), "messages[0].content[0].source.url"),
        (image({"type": "text", "data": "x"}), "messages[0].content[0].source.type"),
        (image({"type": "base64", "data": "x"}), "messages[0].content[0].source.media_type"),
        (convo(("user", [NESTED])), "messages[0].content[0].content[0].type"),
        (convo(("assistant", [{**USE, "input": 1}])), "messages[0].content[0].input"),
        (body(system=[{"type": "image"}]), "system[0].type"),
        (body(system=5), "system"),
        (body(tools=[{"type": "bash_20250124", "name": "bash"}]), "tools[0].type"),
        (body(tools=[{"name": "f"}]), "tools[0].input_schema"),
        (body(tools=[{"input_schema": {}}]), "tools[0].name"),
        (body(tool_choice={"type": "tool", "name": "nope"}), "tool_choice.name"),
        (body(tool_choice={"type": "sometimes"}), "tool_choice.type"),
        (body(thinking={"type": "enabled"}), "thinking.budget_tokens"),
        (body(thinking={"type": "on"}), "thinking.type"),
        (body(output_config={"effort": "extreme"}), "output_config.effort"),
        (body(temperature=3), "temperature"),
        (body(top_k=-1), "top_k"),
        (body(stop_sequences="END"), "stop_sequences"),
        (body(metadata={"user_id": 7}), "metadata.user_id"),
    ],
)  # fmt: skip
def test_malformed_requests_name_the_json_path(request_body: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        inbound.decode_request(request_body)
    assert err.value.path == path
    status, envelope = inbound.encode_error(err.value)
    assert status == 400 and envelope["error"]["type"] == "invalid_request_error"
    assert path in envelope["error"]["message"]


def test_count_tokens_bodies_need_no_max_tokens() -> None:
    counted = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    assert inbound.decode_request(counted, counting=True).max_tokens is None


def test_tool_results_are_named_after_their_call_and_merged_turns_pair_up() -> None:
    messages = turns(
        ("user", "list"),
        ("assistant", [USE]),
        ("assistant", [{**USE, "id": "t2", "name": "cat"}]),
        ("user", [RESULT]),
        ("user", [{**RESULT, "tool_use_id": "t2", "is_error": True}]),
    )
    req = inbound.decode_request(body(messages=messages))
    assert [m.role for m in req.messages] == ["user", "assistant", "user"]
    results = req.messages[2].parts
    assert results == (
        ToolResult(call_id="t1", name="ls", content=(Text(text="a.txt"),)),
        ToolResult(call_id="t2", name="cat", content=(Text(text="a.txt"),), is_error=True),
    )


@pytest.mark.parametrize(
    ("fields", "reasoning"),
    [
        ({}, None),
        ({"thinking": {"type": "enabled", "budget_tokens": 4096}}, Reasoning(budget=4096)),
        ({"thinking": {"type": "adaptive"}}, Reasoning()),
        (
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}},
            Reasoning(effort="low"),
        ),
        ({"thinking": {"type": "disabled"}}, Reasoning(effort="none", include_thoughts=False)),
        ({"output_config": {"effort": "max"}}, Reasoning(effort="high")),
        ({"output_config": {}}, None),
    ],
)  # fmt: skip
def test_thinking_and_effort(fields: dict[str, Any], reasoning: Reasoning | None) -> None:
    assert inbound.decode_request(body(**fields)).reasoning == reasoning


@pytest.mark.parametrize(
    ("user_id", "key"),
    [
        ("plain-user", "plain-user"),
        ('{"device_id":"d","account_uuid":"","session_id":"s-1"}', "s-1"),
        ('{"device_id":"d","session_id":""}', '{"device_id":"d","session_id":""}'),
        ("{not json", "{not json"),
    ],
)
def test_metadata_user_id_feeds_the_session_key(user_id: str, key: str) -> None:
    assert inbound.decode_request(body(metadata={"user_id": user_id})).session_key == key


def test_signatures_carry_their_family_through_the_client() -> None:
    for family in ("claude", "gemini"):
        signature = Signature(value="c2ln", family=family)  # type: ignore[arg-type]
        assert decode_signature(encode_signature(signature)) == signature
    assert decode_signature("EqQBCkYIBxgC") == Signature(value="EqQBCkYIBxgC", family="claude")
    assert decode_signature("") is None


def test_tool_call_and_text_signatures_stay_out_of_the_message() -> None:
    signed = Signature(value="s", family="gemini")
    resp = ChatResponse(
        id="r",
        model="m",
        parts=(
            Thinking(text="t", signature=signed),
            Text(text="x", signature=signed),
            ToolCall(id="c", name="f", arguments={"a": 1}, signature=signed),
        ),
        finish_reason="tool_use",
        usage=Usage(input_tokens=10, output_tokens=5, cached_tokens=4),
    )
    message = inbound.encode_response(resp, model="claude-x")
    assert message["content"] == [
        {"type": "thinking", "thinking": "t", "signature": "gemini#s"},
        {"type": "text", "text": "x"},
        {"type": "tool_use", "id": "c", "name": "f", "input": {"a": 1}},
    ]
    assert message["usage"]["input_tokens"] == 6
    assert message["usage"]["cache_read_input_tokens"] == 4
    encoder = StreamEncoder(id="m", model="x")
    frames = b"".join(f for ev in replay(resp) for f in encoder.feed(ev))
    assert frames.count(b"signature_delta") == 1


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (Unauthorized("bad key"), 401, "authentication_error"),
        (UnknownModel("no such model"), 404, "not_found_error"),
        (NoAccount("busy", rate_limited=True), 429, "rate_limit_error"),
        (NoAccount("none"), 503, "overloaded_error"),
        (UpstreamError(429, "{}"), 429, "rate_limit_error"),
        (UpstreamError(500, "{}"), 500, "api_error"),
        (UpstreamError(403, "{}"), 503, "permission_error"),  # never a 403: Claude Code logs out
        (UpstreamError(401, "{}"), 503, "authentication_error"),
    ],
)
def test_errors_in_anthropic_shape(error: Any, status: int, kind: str) -> None:
    assert inbound.encode_error(error) == (
        status,
        {"type": "error", "error": {"type": kind, "message": error.message}},
    )


def test_stream_encoder_pings_fails_once_and_stops_after_the_end() -> None:
    encoder = StreamEncoder(id="msg_1", model="m")
    assert encoder.feed(Start(id="x", model="y"))[0].startswith(b"event: message_start\n")
    assert encoder.ping() == [b'event: ping\ndata: {"type":"ping"}\n\n']
    encoder.feed(PartStart(index=0, kind="text"))
    assert encoder.feed(TextDelta(index=0, text="")) == []
    [error] = encoder.fail(UpstreamError(502, "", message="broke"))
    assert error.startswith(b"event: error\ndata: {")
    assert b'"type":"error","error":{"type":"api_error","message":"broke"}' in error
    assert encoder.fail(UpstreamError(502, "")) == encoder.ping() == []
    assert encoder.feed(PartEnd(index=0)) == encoder.feed(Finish(reason="stop")) == []


BLOCK_TYPES = ["text", "image", "tool_use", "tool_result", "thinking", "document", "x"]
messages = st.lists(
    st.fixed_dictionaries(
        {
            "role": mostly(st.sampled_from(["user", "assistant", "system", "x"])),
            "content": mostly(
                st.text(max_size=3)
                | st.lists(
                    st.fixed_dictionaries(
                        {"type": mostly(st.sampled_from(BLOCK_TYPES))},
                        optional={
                            "text": mostly(st.text(max_size=3)),
                            "id": mostly(st.just("t1")),
                            "tool_use_id": mostly(st.just("t1")),
                            "name": mostly(st.just("f")),
                            "input": json_values,
                            "source": json_values,
                            "thinking": st.text(max_size=3),
                            "signature": st.sampled_from(["", "claude#x", "gemini#", "x"]),
                            "content": json_values,
                        },
                    ),
                    max_size=3,
                )
            ),
        }
    ),
    max_size=4,
)  # fmt: skip
bodies = st.fixed_dictionaries(
    {
        "model": mostly(st.just("m")),
        "max_tokens": mostly(st.integers(-1, 10)),
        "messages": messages,
    },
    optional={
        "system": json_values | st.text(max_size=3),
        "tools": json_values,
        "tool_choice": json_values,
        "thinking": json_values,
        "output_config": json_values,
        "metadata": json_values,
        "stop_sequences": json_values,
        "temperature": json_values,
    },
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(json_values, bodies))
def test_decode_request_raises_only_invalid_request(value: Any) -> None:
    try:
        inbound.decode_request(value)
    except InvalidRequest as exc:
        assert exc.http_status == 400
