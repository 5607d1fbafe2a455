"""OpenAI chat inbound codec: bad inputs name their path, the fuzzer only ever gets
InvalidRequest, and the stream encoder's frame sequence is what the openai SDK expects."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antigravity_gateway.core.events import (
    Event,
    Finish,
    PartEnd,
    PartStart,
    Start,
    TextDelta,
    ThinkingDelta,
    ToolArgsDelta,
)
from antigravity_gateway.core.messages import ChatResponse, Media, Text, ToolCall, Usage
from antigravity_gateway.errors import (
    GatewayError,
    InvalidRequest,
    NoAccount,
    NotImplementedYet,
    PayloadTooLarge,
    Unauthorized,
    UnknownModel,
    UpstreamError,
)
from antigravity_gateway.protocols.openai_chat import inbound

USER = {"role": "user", "content": "hi"}
CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [USER], **fields}


def chat(*messages: Any) -> dict[str, Any]:
    return body(messages=list(messages))


def parts(*content: Any) -> dict[str, Any]:
    return chat({"role": "user", "content": list(content)})


BAD: list[tuple[Any, str, str]] = [
    ([1, 2], "", "must be a JSON object"),
    ({"messages": [USER]}, "model", "is required"),
    ({"model": 5, "messages": [USER]}, "model", "must be a string"),
    ({"model": "", "messages": [USER]}, "model", "must not be empty"),
    ({"model": "m"}, "messages", "is required"),
    ({"model": "m", "messages": []}, "messages", "must not be empty"),
    ({"model": "m", "messages": {}}, "messages", "must be an array"),
    (body(messages=["hi"]), "messages[0]", "must be an object"),
    (body(messages=[{"content": "x"}]), "messages[0].role", "is required"),
    (chat(USER, USER, {"role": "robot", "content": "x"}), "messages[2].role", "unknown role"),
    (body(messages=[{"role": 3}]), "messages[0].role", "unknown role"),
    (body(messages=[{"role": "user"}]), "messages[0].content", "is required"),
    (body(messages=[{"role": "user", "content": 7}]), "messages[0].content", "must be an array"),
    (body(messages=[{"role": "user", "content": [{"type": "video"}]}]),
     "messages[0].content[0].type", "unsupported content part type"),
    (body(messages=[{"role": "user", "content": [{"type": {}}]}]),
     "messages[0].content[0].type", "unsupported"),
    (body(messages=[{"role": "user", "content": [{"type": "text"}]}]),
     "messages[0].content[0].text", "is required"),
    (body(messages=[{"role": "system", "content": [{"type": "image_url"}]}]),
     "messages[0].content[0].type", "unsupported"),
    (parts({"type": "image_url", "image_url": {"url": "ftp://x"}}),
     "messages[0].content[0].image_url.url", "http(s) URL"),
    (parts({"type": "image_url", "image_url": "data:image/png,xx"}),
     "messages[0].content[0].image_url", "base64 data URL"),
    (parts({"type": "file", "file": {"file_id": "f"}}),
     "messages[0].content[0].file.file_data", "is required"),
    (chat(USER, {"role": "tool", "content": "x"}), "messages[1].tool_call_id", "is required"),
    (body(messages=[USER, {"role": "tool", "tool_call_id": "nope", "content": "x"}]),
     "messages[1].tool_call_id", "matches no earlier"),
    (chat({"role": "assistant", "tool_calls": {}}), "messages[0].tool_calls", "must be an array"),
    (body(messages=[{"role": "assistant", "tool_calls": [{**CALL, "id": ""}]}]),
     "messages[0].tool_calls[0].id", "must not be empty"),
    (body(messages=[{"role": "assistant", "tool_calls": [{**CALL, "type": "custom"}]}]),
     "messages[0].tool_calls[0].type", "must be"),
    (body(messages=[USER, {"role": "assistant", "tool_calls": [
        {"id": "c", "function": {"name": "f", "arguments": "{oops"}}]}]),
     "messages[1].tool_calls[0].function.arguments", "not valid JSON"),
    (body(messages=[{"role": "assistant", "tool_calls": [
        {"id": "c", "function": {"name": "f", "arguments": "[1]"}}]}]),
     "messages[0].tool_calls[0].function.arguments", "JSON object"),
    (body(messages=[{"role": "assistant", "tool_calls": [
        {"id": "c", "function": {"name": "f", "arguments": {"a": 1}}}]}]),
     "messages[0].tool_calls[0].function.arguments", "must be a string"),
    (body(temperature="hot"), "temperature", "must be a number"),
    (body(temperature=True), "temperature", "must be a number"),
    (body(temperature=3), "temperature", "between 0 and 2"),
    (body(top_p=1.5), "top_p", "between 0 and 1"),
    (body(max_tokens=-1), "max_tokens", "must be >= 1"),
    (body(max_tokens=1.5), "max_tokens", "must be an integer"),
    (body(max_completion_tokens=0), "max_completion_tokens", "must be >= 1"),
    (body(stream="yes"), "stream", "must be a boolean"),
    (body(stream_options=[]), "stream_options", "must be an object"),
    (body(stream_options={"include_usage": 1}), "stream_options.include_usage", "boolean"),
    (body(n=2), "n", "n > 1 is not supported"),
    (body(stop=5), "stop", "must be an array"),
    (body(stop=["a", 1]), "stop[1]", "must be a string"),
    (body(stop=["a", "b", "c", "d", "e"]), "stop", "at most 4"),
    (body(reasoning_effort="max"), "reasoning_effort", "must be one of"),
    (body(response_format={"type": "xml"}), "response_format.type", "must be"),
    (body(response_format={"type": "json_schema"}), "response_format.json_schema", "an object"),
    (body(response_format={"type": "json_schema", "json_schema": {"schema": 1}}),
     "response_format.json_schema.schema", "must be an object"),
    (body(response_format="json"), "response_format", "must be an object"),
    (body(tools={}), "tools", "must be an array"),
    (body(tools=[{"type": "file_search"}]), "tools[0].type", "function"),
    (body(tools=[{"type": "function"}]), "tools[0].function", "is required"),
    (body(tools=[{"type": "function", "function": {"name": ""}}]),
     "tools[0].function.name", "empty"),
    (body(tools=[{"type": "function", "function": {"name": "f", "parameters": []}}]),
     "tools[0].function.parameters", "must be an object"),
    (body(tool_choice="sometimes"), "tool_choice", "must be"),
    (body(tool_choice={"type": "function", "function": {"name": "g"}}),
     "tool_choice.function.name", "names no declared tool"),
    (body(user=42), "user", "must be a string"),
]  # fmt: skip


@pytest.mark.parametrize(("request_body", "path", "message"), BAD)
def test_bad_input_names_its_path(request_body: Any, path: str, message: str) -> None:
    assert_invalid(inbound.decode_request, request_body, path, message)


def assert_invalid(decode: Callable[[Any], object], body: Any, path: str, message: str) -> None:
    """`decode` refuses `body` naming `path`; rendered, that is a 400 in OpenAI's envelope."""
    with pytest.raises(InvalidRequest) as caught:
        decode(body)
    assert caught.value.path == path
    assert message in caught.value.message
    status, error = inbound.encode_error(caught.value)
    assert status == 400
    assert error["error"]["type"] == "invalid_request_error"
    assert error["error"]["param"] == (path or None)


def test_fields_that_need_a_closer_look() -> None:
    req = inbound.decode_request(
        body(
            reasoning_effort="xhigh",
            max_tokens=10,
            stop="END",
            tool_choice={"type": "function", "function": {"name": "f"}},
            tools=[{"type": "function", "function": {"name": "f"}}],
            messages=[
                {"role": "user", "content": [{"type": "input_audio",
                                              "input_audio": {"data": "UklG", "format": "wav"}}]},
                {"role": "user", "content": [
                    {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE"}}]},
            ],
        )
    )  # fmt: skip
    assert req.reasoning is not None and req.reasoning.effort == "high"
    assert req.max_tokens == 10 and req.stop == ("END",)
    assert req.tool_choice is not None and (req.tool_choice.mode, req.tool_choice.name) == (
        "tool",
        "f",
    )
    assert req.messages[0].parts == (Media(mime="audio/wav", data="UklG"),)
    assert req.messages[1].parts == (Media(mime="application/pdf", data="JVBE"),)


def test_wants_usage() -> None:
    assert inbound.wants_usage(body(stream=True, stream_options={"include_usage": True}))
    assert not inbound.wants_usage(body(stream=True))
    assert not inbound.wants_usage(body(stream_options={"include_usage": None}))


# --- fuzzing: any JSON value in, a ChatRequest or InvalidRequest out ----------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid-looking values most of the time, so the fuzzer gets past the first check."""
    return st.integers(0, 9).flatmap(lambda n: valid if n else json_values)


arguments = mostly(st.sampled_from(["{}", "", "[", "1", '{"a": [1]}']))
function = st.fixed_dictionaries({"name": mostly(st.just("f")), "arguments": arguments})
tool_call = st.fixed_dictionaries(
    {"id": mostly(st.sampled_from(["a", "b"])), "function": mostly(function)},
    optional={"type": mostly(st.just("function"))},
)
part = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "input_audio", "file", "refusal", "x"])},
    optional={
        "text": mostly(st.text(max_size=4)),
        "image_url": mostly(st.sampled_from(["data:a/b;base64,x", "https://h/p.png", "data:,"])),
        "input_audio": mostly(st.just({"data": "x", "format": "wav"})),
        "file": mostly(st.fixed_dictionaries({"file_data": st.just("data:a/b;base64,x")})),
    },
)  # fmt: skip
message = st.fixed_dictionaries(
    {
        "role": mostly(st.sampled_from(["system", "developer", "user", "assistant", "tool", "x"])),
        "content": mostly(st.text(max_size=5) | st.lists(part, max_size=3)),
    },
    optional={
        "tool_calls": mostly(st.lists(tool_call, max_size=2)),
        "tool_call_id": mostly(st.sampled_from(["a", "b"])),
    },
)  # fmt: skip
tool = st.fixed_dictionaries(
    {
        "type": mostly(st.just("function")),
        "function": mostly(
            st.fixed_dictionaries(
                {"name": mostly(st.just("f"))}, optional={"parameters": json_values}
            )
        ),
    }
)
OPTIONAL = {
    "tools": st.lists(tool, max_size=2),
    "tool_choice": st.sampled_from(["auto", "none", "required", "x"])
    | st.just({"type": "function", "function": {"name": "f"}}),
    "temperature": st.floats(0, 2),
    "top_p": st.floats(0, 1),
    "max_tokens": st.integers(1, 10**6),
    "max_completion_tokens": st.integers(-1, 10**6),
    "stop": st.text(max_size=3) | st.lists(st.text(max_size=3), max_size=5),
    "stream": st.booleans(),
    "stream_options": st.fixed_dictionaries({"include_usage": st.booleans()}),
    "response_format": st.sampled_from([{"type": "text"}, {"type": "json_object"}])
    | st.fixed_dictionaries({"type": st.just("json_schema"), "json_schema": json_values}),
    "reasoning_effort": st.sampled_from(["low", "high", "xhigh", "max"]),
    "user": st.text(max_size=3),
    "n": st.sampled_from([1, 1, 1, 2]),
}
bodies = st.fixed_dictionaries(
    {"model": mostly(st.just("m")), "messages": mostly(st.lists(message, min_size=1, max_size=4))},
    optional={key: mostly(value) for key, value in OPTIONAL.items()},
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(json_values, bodies))
def test_decode_request_raises_only_invalid_request(value: Any) -> None:
    try:
        inbound.decode_request(value)
    except InvalidRequest as exc:
        assert exc.http_status == 400


# --- responses ----------------------------------------------------------------------------
def test_encode_response_only_tool_calls_has_null_content() -> None:
    resp = ChatResponse(
        id="r", model="m", finish_reason="tool_use",
        parts=(ToolCall(id="c", name="f", arguments={"x": [1, "é"]}),),
        usage=Usage(input_tokens=3, output_tokens=4, reasoning_tokens=1, cached_tokens=2),
    )  # fmt: skip
    out = inbound.encode_response(resp, model="gpt-4o", created=1)
    message = out["choices"][0]["message"]
    assert message["content"] is None and "reasoning_content" not in message
    assert json.loads(message["tool_calls"][0]["function"]["arguments"]) == {"x": [1, "é"]}
    assert out["choices"][0]["finish_reason"] == "tool_calls"
    assert out["usage"]["total_tokens"] == 7
    assert out["usage"]["prompt_tokens_details"]["cached_tokens"] == 2
    empty = ChatResponse(id="r", model="m", parts=(), finish_reason="error")
    assert (
        inbound.encode_response(empty, model="x", created=1)["choices"][0]["message"]["content"]
        == ""
    )


ERRORS: list[tuple[GatewayError, int, str, str | None]] = [
    (InvalidRequest("bad", path="messages[0]"), 400, "invalid_request_error", None),
    (Unauthorized("no key"), 401, "authentication_error", "invalid_api_key"),
    (UnknownModel("gpt-9"), 404, "not_found_error", "model_not_found"),
    (PayloadTooLarge("big"), 413, "invalid_request_error", "request_too_large"),
    (NoAccount("busy", rate_limited=True), 429, "rate_limit_error", "rate_limit_exceeded"),
    (NoAccount("none"), 503, "server_error", "overloaded"),
    (UpstreamError(500, "{}"), 500, "api_error", None),
    (UpstreamError(429, "{}"), 429, "rate_limit_error", "rate_limit_exceeded"),
    (NotImplementedYet("later"), 501, "not_implemented_error", "not_implemented"),
]


@pytest.mark.parametrize(("err", "status", "kind", "code"), ERRORS)
def test_encode_error(err: GatewayError, status: int, kind: str, code: str | None) -> None:
    got_status, got = inbound.encode_error(err)
    assert got_status == status
    param = "messages[0]" if isinstance(err, InvalidRequest) else None
    assert got == {"error": {"message": err.message, "type": kind, "code": code, "param": param}}


# --- stream -------------------------------------------------------------------------------
def frames(encoder: inbound.StreamEncoder, evs: list[Event]) -> list[Any]:
    out = []
    for frame in [f for ev in evs for f in encoder.feed(ev)]:
        assert frame.startswith(b"data: ") and frame.endswith(b"\n\n")
        data = frame[6:-2]
        out.append("[DONE]" if data == b"[DONE]" else json.loads(data))
    return out


def encoder(include_usage: bool = False) -> inbound.StreamEncoder:
    return inbound.StreamEncoder(
        id="chatcmpl-1", model="gpt-4o", created=5, include_usage=include_usage
    )


EVENTS: list[Event] = [
    Start(id="up", model="gemini"),
    PartStart(index=0, kind="thinking"), ThinkingDelta(index=0, text="hmm"), PartEnd(index=0),
    PartStart(index=1, kind="thinking", redacted=True), ThinkingDelta(index=1, text="opaque"),
    PartEnd(index=1),
    PartStart(index=2, kind="text"), TextDelta(index=2, text=""), TextDelta(index=2, text="Hi"),
    PartEnd(index=2),
    PartStart(index=3, kind="tool_call", tool_id="c1", tool_name="f"),
    ToolArgsDelta(index=3, json='{"a":'), ToolArgsDelta(index=3, json="1}"), PartEnd(index=3),
    PartStart(index=4, kind="media", media=Media(mime="image/png", url="https://x/y.png")),
    PartEnd(index=4),
    PartStart(index=5, kind="tool_call", tool_id="c2", tool_name="g"), PartEnd(index=5),
    Finish(reason="tool_use", usage=Usage(input_tokens=2, output_tokens=3)),
]  # fmt: skip


def test_stream_frame_sequence() -> None:
    chunks = frames(encoder(include_usage=True), EVENTS)
    assert chunks[-1] == "[DONE]"
    *body, usage, _ = chunks
    for chunk in [*body, usage]:
        assert (chunk["id"], chunk["object"], chunk["created"], chunk["model"]) == (
            "chatcmpl-1", "chat.completion.chunk", 5, "gpt-4o")  # fmt: skip
    deltas = [c["choices"][0]["delta"] for c in body]
    assert all(c["choices"][0]["index"] == 0 for c in body)
    assert deltas[0] == {"role": "assistant", "content": ""}
    assert deltas[1:4] == [
        {"reasoning_content": "hmm"},
        {"content": "Hi"},
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "f", "arguments": ""},
                }
            ]
        },
    ]
    assert [d["tool_calls"][0]["function"]["arguments"] for d in deltas[4:6]] == ['{"a":', "1}"]
    assert deltas[6] == {"content": "![image](https://x/y.png)"}
    assert deltas[7]["tool_calls"][0]["index"] == 1
    assert deltas[8] == {"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}
    assert [c["choices"][0]["finish_reason"] for c in body] == [None] * 9 + ["tool_calls"]
    assert deltas[9] == {}
    assert usage["choices"] == [] and usage["usage"]["total_tokens"] == 5


def test_stream_without_usage_and_after_done() -> None:
    enc = encoder()
    chunks = frames(enc, [Start(id="a", model="b"), Finish(reason="length")])
    assert [c if c == "[DONE]" else c["choices"][0]["finish_reason"] for c in chunks] == [
        None, "length", "[DONE]"]  # fmt: skip
    assert enc.feed(Finish(reason="stop")) == [] and enc.fail(UpstreamError(500, "")) == []


def test_stream_fail() -> None:
    enc = encoder()
    enc.feed(Start(id="a", model="b"))
    error, done = enc.fail(UpstreamError(503, "", message="upstream overloaded"))
    assert json.loads(error[6:-2]) == {
        "error": {
            "message": "upstream overloaded",
            "type": "server_error",
            "code": "overloaded",
            "param": None,
        }
    }
    assert done == b"data: [DONE]\n\n"
    assert enc.feed(TextDelta(index=0, text="late")) == []


def test_text_and_media_join_in_content() -> None:
    resp = ChatResponse(
        id="r", model="m", finish_reason="stop",
        parts=(Text(text="See: "), Media(mime="image/png", data="AAA")),
    )  # fmt: skip
    content = inbound.encode_response(resp, model="x", created=1)["choices"][0]["message"][
        "content"
    ]
    assert content == "See: ![image](data:image/png;base64,AAA)"
