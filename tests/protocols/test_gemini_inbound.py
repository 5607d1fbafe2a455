"""Gemini client-facing codec: decoding (paths in errors, signatures, config mapping, enums),
the error envelope, and the stream encoder's framing and last-chunk guarantees."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antigravity_gateway.core import events
from antigravity_gateway.core.events import (
    Finish,
    PartEnd,
    PartStart,
    Start,
    TextDelta,
    ToolArgsDelta,
)
from antigravity_gateway.core.messages import (
    ChatResponse,
    Media,
    Reasoning,
    Signature,
    Text,
    Thinking,
    ToolCall,
    ToolChoice,
    ToolResult,
    Usage,
)
from antigravity_gateway.errors import InvalidRequest, UpstreamError
from antigravity_gateway.protocols.gemini import inbound, outbound

from .test_openai_chat_inbound import json_values, mostly

HI = {"role": "user", "parts": [{"text": "hi"}]}


def decode(**fields: Any) -> Any:
    return inbound.decode_request({"contents": [HI], **fields}, model="gemini-3-flash")


def model_turn(*parts: dict[str, Any]) -> Any:
    body = {"contents": [HI, {"role": "model", "parts": list(parts)}, HI]}
    return inbound.decode_request(body, model="m").messages[1].parts


def body_with(**fields: Any) -> dict[str, Any]:
    return {"contents": [HI], **fields}


def generation(**config: Any) -> dict[str, Any]:
    return body_with(generationConfig=config)


def one_part(part: dict[str, Any]) -> dict[str, Any]:
    return {"contents": [{"parts": [part]}]}


def declared(**declaration: Any) -> dict[str, Any]:
    return body_with(tools=[{"functionDeclarations": [declaration]}])


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ([1], ""),
        ({}, "contents"),
        ({"contents": []}, "contents"),
        ({"contents": "hi"}, "contents"),
        ({"contents": [1]}, "contents[0]"),
        ({"contents": [{"role": "system", "parts": []}]}, "contents[0].role"),
        ({"contents": [{"role": "user", "parts": {}}]}, "contents[0].parts"),
        (one_part({}), "contents[0].parts[0]"),
        (one_part({"text": 5}), "contents[0].parts[0].text"),
        (one_part({"text": "x", "thoughtSignature": 1}), "thoughtSignature"),
        (one_part({"functionCall": {"args": {}}}), "functionCall.name"),
        (one_part({"functionCall": {"name": "f", "args": []}}), "functionCall.args"),
        (one_part({"functionResponse": {"name": "f", "response": 1}}), "response"),
        (one_part({"inlineData": {"mimeType": "a/b"}}), "inlineData.data"),
        (one_part({"inline_data": {"data": 3}}), "inline_data.data"),
        (body_with(systemInstruction={"parts": [{"text": 1}]}), "parts[0].text"),
        (body_with(generationConfig=[]), "generationConfig"),
        (generation(temperature="hot"), "generationConfig.temperature"),
        (generation(topP=1.5), "generationConfig.topP"),
        (body_with(generation_config={"max_output_tokens": 0}), "max_output_tokens"),
        (generation(candidateCount=2), "candidateCount"),
        (generation(stopSequences=[1]), "stopSequences[0]"),
        (generation(responseSchema={"type": {}}), "responseSchema.type"),
        (generation(thinkingConfig={"thinkingLevel": "MAX"}), "thinkingLevel"),
        (generation(thinkingConfig={"thinkingBudget": -5}), "thinkingBudget"),
        (generation(thinkingConfig={"includeThoughts": 1}), "includeThoughts"),
        (body_with(tools={}), "tools"),
        (body_with(tools=[{"functionDeclarations": [{}]}]), "functionDeclarations[0].name"),
        (declared(name="f", parameters=1), "functionDeclarations[0].parameters"),
        (body_with(toolConfig={"functionCallingConfig": {"mode": "SOMETIMES"}}), "mode"),
        (body_with(safetySettings=[1]), "safetySettings[0]"),
    ],
)
def test_malformed_requests_name_the_path(body: Any, path: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        inbound.decode_request(body, model="gemini-3-flash")
    assert path in err.value.path
    status, envelope = inbound.encode_error(err.value)
    assert status == 400 and envelope["error"]["status"] == "INVALID_ARGUMENT"
    if err.value.path:
        assert envelope["error"]["details"][0]["fieldViolations"][0]["field"] == err.value.path


def test_deep_schema_is_a_400_not_a_crash() -> None:
    schema: dict[str, Any] = {"type": "STRING"}
    for _ in range(200):
        schema = {"type": "OBJECT", "properties": {"a": schema}}
    with pytest.raises(InvalidRequest, match="nested deeper"):
        decode(generationConfig={"responseMimeType": "application/json", "responseSchema": schema})


def test_signatures_are_kept_canonical_and_tagged() -> None:
    signed = {"functionCall": {"name": "a", "args": {}, "id": "c1"}, "thoughtSignature": "Ej-_AB=="}
    sentinel = {
        "functionCall": {"name": "b"},
        "thoughtSignature": "skip_thought_signature_validator",
    }
    body = {"contents": [HI, {"role": "model", "parts": [signed, sentinel]}]}
    a, b = inbound.decode_request(body, model="m", family="claude").messages[1].parts
    assert a == ToolCall(
        id="c1", name="a", arguments={}, signature=Signature(value="Ej+/AB==", family="claude")
    )
    assert b == ToolCall(id="", name="b", arguments={})  # the sentinel is no signature


def test_model_turns_merge_streamed_pieces_user_turns_do_not() -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "a"}, {"text": "b"}]},
            {"role": "model", "parts": [{"text": "x", "thought": True}]},
            {"role": "model", "parts": [{"text": "y", "thought": True}, {"text": "1"}]},
            {"role": "model", "parts": [{"text": "2"}, {"text": "", "thoughtSignature": "S1"}]},
            {"role": "model", "parts": [{"text": "3"}]},
        ]
    }
    user, model = inbound.decode_request(body, model="m").messages
    assert user.parts == (Text(text="a"), Text(text="b"))
    sig = Signature(value="S1", family="gemini")
    assert model.parts == (Thinking(text="xy"), Text(text="12", signature=sig), Text(text="3"))


@pytest.mark.parametrize(
    ("response", "text", "is_error"),
    [
        ({"output": "print('hello')\n"}, "print('hello')\n", False),
        ({"result": "ok"}, "ok", False),
        ({"error": "no such file"}, "no such file", True),
        ({"temp": 21, "unit": "C"}, '{"temp":21,"unit":"C"}', False),
        ({}, "", False),
    ],
)
def test_function_responses(response: dict[str, Any], text: str, is_error: bool) -> None:
    part = {"functionResponse": {"name": "f", "id": "c1", "response": response}}
    [result] = inbound.decode_request(one_part(part), model="m").messages[0].parts
    assert result == ToolResult(
        call_id="c1", name="f", content=(Text(text=text),) if text else (), is_error=is_error
    )


def test_function_response_parts_carry_media() -> None:
    inline = {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}
    part = {"functionResponse": {"name": "f", "response": {"output": "img"}, "parts": [inline]}}
    [result] = inbound.decode_request(one_part(part), model="m").messages[0].parts
    assert isinstance(result, ToolResult)
    assert result.content == (Text(text="img"), Media(mime="image/png", data="AAAA"))


@pytest.mark.parametrize(
    ("config", "reasoning"),
    [
        ({"thinkingLevel": "HIGH", "includeThoughts": True}, Reasoning(effort="high")),
        ({"thinkingLevel": "low"}, Reasoning(effort="low", include_thoughts=False)),
        ({"thinkingLevel": "THINKING_LEVEL_UNSPECIFIED"}, Reasoning(include_thoughts=False)),
        ({"thinkingBudget": 8192, "includeThoughts": True}, Reasoning(budget=8192)),
        ({"thinkingBudget": -1}, Reasoning(include_thoughts=False)),
        ({"thinking_budget": 0}, Reasoning(budget=0, include_thoughts=False)),
    ],
)
def test_thinking_config(config: dict[str, Any], reasoning: Reasoning) -> None:
    assert decode(generationConfig={"thinkingConfig": config}).reasoning == reasoning


@pytest.mark.parametrize(
    ("config", "choice"),
    [
        ({"mode": "AUTO"}, None),
        ({"mode": "VALIDATED"}, None),
        ({"mode": "NONE"}, ToolChoice(mode="none")),
        ({"mode": 3}, ToolChoice(mode="none")),
        ({"mode": "ANY"}, ToolChoice(mode="required")),
        ({"mode": "ANY", "allowedFunctionNames": ["f", "g"]}, ToolChoice(mode="required")),
        ({"mode": "ANY", "allowedFunctionNames": ["f"]}, ToolChoice(mode="tool", name="f")),
    ],
)
def test_tool_config(config: dict[str, Any], choice: ToolChoice | None) -> None:
    assert decode(toolConfig={"functionCallingConfig": config}).tool_choice == choice


@pytest.mark.parametrize(
    ("config", "schema"),
    [
        ({"responseMimeType": "application/json"}, {}),
        ({"responseMimeType": "text/plain"}, None),
        ({"responseJsonSchema": {"type": "object"}}, {"type": "object"}),
        (
            {
                "responseMimeType": "application/json",
                "responseSchema": {"type": "ARRAY", "items": {"type": 1, "nullable": True}},
            },
            {"type": "array", "items": {"type": ["string", "null"]}},
        ),
    ],
)
def test_response_schema(config: dict[str, Any], schema: dict[str, Any] | None) -> None:
    assert decode(generationConfig=config).json_schema == schema


def test_passthrough_reaches_the_upstream_body_only_for_gemini() -> None:
    req = decode(
        safetySettings=[{"category": 8, "threshold": "BLOCK_NONE"}],
        tools=[{"googleSearch": {}}],
        generationConfig={"seed": 3, "temperature": 0.5, "mediaResolution": 1},
    )
    body = outbound.encode_request(req, model="gemini-3-flash")
    assert body["safetySettings"] == [
        {"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}
    ]
    assert body["tools"] == [{"googleSearch": {}}]
    assert body["generationConfig"] == {
        "seed": 3,
        "mediaResolution": "MEDIA_RESOLUTION_LOW",
        "temperature": 0.5,
    }


def test_count_request_unwraps_the_legacy_wrapper() -> None:
    wrapped = {"generateContentRequest": {"model": "models/x", "contents": [HI]}}
    assert inbound.decode_count_request(wrapped, model="x").messages[0].parts == (Text(text="hi"),)
    with pytest.raises(InvalidRequest) as err:
        inbound.decode_count_request({"generateContentRequest": {"contents": 1}}, model="x")
    assert err.value.path == "generateContentRequest.contents"


# --- errors -------------------------------------------------------------------------------
def test_upstream_errors_pass_through_in_googles_own_shape() -> None:
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}
    google = {
        "error": {
            "code": 429,
            "message": "quota",
            "status": "RESOURCE_EXHAUSTED",
            "details": [retry],
        }
    }
    assert inbound.encode_error(UpstreamError(429, json.dumps(google))) == (429, google)
    assert inbound.encode_error(UpstreamError(400, json.dumps([google])))[1] == google
    status, body = inbound.encode_error(UpstreamError(503, "<html>busy</html>"))
    assert status == 503 and body["error"]["status"] == "UNAVAILABLE"


# --- responses and streams ----------------------------------------------------------------
RESPONSE = ChatResponse(
    id="r1",
    model="gemini-3-flash",
    parts=(
        Thinking(text="hmm", signature=Signature(value="T", family="claude")),
        Text(text="Hello", signature=Signature(value="S", family="gemini")),
        ToolCall(id="c1", name="f", arguments={"a": [1, "é"]}, signature=None),
        Media(mime="image/png", data="AAAA"),
    ),
    finish_reason="tool_use",
    usage=Usage(input_tokens=10, output_tokens=7, reasoning_tokens=3, cached_tokens=4),
)


def test_encode_response_round_trips_through_decode() -> None:
    body = inbound.encode_response(RESPONSE)
    candidate = body["candidates"][0]
    assert candidate["finishReason"] == "STOP"
    assert body["usageMetadata"] == {
        "promptTokenCount": 10, "candidatesTokenCount": 4, "totalTokenCount": 17,
        "thoughtsTokenCount": 3, "cachedContentTokenCount": 4,
    }  # fmt: skip
    replayed = model_turn(*candidate["content"]["parts"])
    as_gemini = tuple(
        p if isinstance(p, Media) else type(p)(**{**_fields(p), "signature": _regemini(p)})
        for p in RESPONSE.parts
    )
    assert replayed == as_gemini


def test_thoughts_are_left_out_unless_asked_for() -> None:
    body = inbound.encode_response(RESPONSE, thoughts=False)
    parts = body["candidates"][0]["content"]["parts"]
    assert [p for p in parts if p.get("thought")] == [] and len(parts) == 3
    encoder = inbound.StreamEncoder(framing="array", thoughts=False)
    raw = b"".join(f for ev in events.replay(RESPONSE) for f in encoder.feed(ev))
    assert not any(p.get("thought") for p in _flat_parts(msgspec.json.decode(raw)))


def test_tool_arguments_that_are_no_object_fail_the_stream() -> None:
    encoder = inbound.StreamEncoder(framing="sse")
    encoder.feed(PartStart(index=0, kind="tool_call", tool_id="c", tool_name="f"))
    encoder.feed(ToolArgsDelta(index=0, json="[1]"))
    with pytest.raises(UpstreamError):
        encoder.feed(PartEnd(index=0))


def _fields(part: Any) -> dict[str, Any]:
    return {k: getattr(part, k) for k in part.__slots__}


def _regemini(part: Any) -> Signature | None:
    """Decoded signatures carry the family the request names (gemini by default)."""
    return (
        None if part.signature is None else Signature(value=part.signature.value, family="gemini")
    )


ARGS = st.just({"x": 1})
responses = st.builds(
    ChatResponse,
    id=st.text(max_size=4),
    model=st.sampled_from(["gemini-3-flash", ""]),
    parts=st.lists(
        st.one_of(
            st.builds(Text, text=st.text(max_size=6)),
            st.builds(Thinking, text=st.text(max_size=6), redacted=st.booleans()),
            st.builds(ToolCall, id=st.text(max_size=3), name=st.just("f"), arguments=ARGS),
            st.builds(Media, mime=st.just("image/png"), data=st.just("AAAA")),
        ),
        max_size=5,
    ).map(tuple),
    finish_reason=st.sampled_from(["stop", "length", "tool_use", "content_filter", "error"]),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(responses, st.sampled_from(["sse", "array"]))
def test_every_stream_ends_with_a_finish_reason_chunk(resp: ChatResponse, framing: Any) -> None:
    encoder = inbound.StreamEncoder(framing=framing, model="m")
    raw = b"".join(f for ev in events.replay(resp) for f in encoder.feed(ev))
    chunks = _chunks(raw, framing)
    last = chunks[-1]["candidates"][0]
    assert last["finishReason"] == inbound.encode_response(resp)["candidates"][0]["finishReason"]
    assert last["content"]["parts"], "google-genai's chat drops turns with an empty chunk"
    assert all("finishReason" not in c["candidates"][0] for c in chunks[:-1])
    visible = "".join(p.get("text", "") for p in _flat_parts(chunks) if not p.get("thought"))
    assert visible == resp.text
    assert encoder.feed(Finish(reason="stop")) == []


def _flat_parts(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for c in chunks for p in c["candidates"][0]["content"]["parts"]]


def _chunks(raw: bytes, framing: str) -> list[dict[str, Any]]:
    if framing == "array":
        return msgspec.json.decode(raw)
    frames = [f for f in raw.split(b"\n\n") if f]
    assert all(f.startswith(b"data: ") for f in frames)
    return [msgspec.json.decode(f.removeprefix(b"data: ")) for f in frames]


@pytest.mark.parametrize("framing", ["sse", "array"])
@pytest.mark.parametrize("chunks_before", [0, 1])
def test_a_failure_is_the_last_element(framing: Any, chunks_before: int) -> None:
    encoder = inbound.StreamEncoder(framing=framing, model="m")
    raw = b"".join(encoder.feed(Start(id="r", model="m")))
    raw += b"".join(encoder.feed(PartStart(index=0, kind="text")))
    for _ in range(chunks_before):
        raw += b"".join(encoder.feed(TextDelta(index=0, text="partial")))
    raw += b"".join(encoder.fail(UpstreamError(502, "", message="broke")))
    chunks = _chunks(raw, framing)
    assert chunks[-1]["error"]["code"] == 502 and len(chunks) == chunks_before + 1
    assert encoder.fail(UpstreamError(502, "")) == [] and encoder.feed(Finish(reason="stop")) == []


# --- fuzzing: any JSON in, a ChatRequest (that encodes upstream) or InvalidRequest out ------
def obj(*required: str, **optional: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a dict with `required` keys set to "f" and some of the `optional` ones."""
    return mostly(
        st.fixed_dictionaries({k: mostly(st.just("f")) for k in required}, optional=optional)
    )


part = st.fixed_dictionaries(
    {},
    optional={
        "text": mostly(st.text(max_size=4)),
        "thought": st.booleans(),
        "thoughtSignature": mostly(st.sampled_from(["Ej-_", "skip_thought_signature_validator"])),
        "functionCall": obj("name", args=json_values, id=json_values),
        "functionResponse": obj("name", response=json_values, parts=json_values),
        "inlineData": obj("mimeType", data=mostly(st.just("QQ=="))),
        "fileData": json_values,
        "executableCode": json_values,
    },
)
content = st.fixed_dictionaries(
    {"parts": mostly(st.lists(part, max_size=3))},
    optional={"role": st.sampled_from(["user", "model", "tool", None])},
)
schema = st.recursive(
    st.fixed_dictionaries({"type": mostly(st.sampled_from(["STRING", "OBJECT", 6, "integer"]))}),
    lambda inner: st.fixed_dictionaries(
        {"type": st.just("OBJECT")},
        optional={
            "properties": mostly(st.dictionaries(st.text(max_size=3), inner, max_size=3)),
            "items": inner,
            "anyOf": st.lists(inner, max_size=2),
            "nullable": st.booleans(),
        },
    ),
    max_leaves=10,
)
declaration = obj("name", parameters=mostly(schema), parametersJsonSchema=json_values)
thinking = obj(
    thinkingBudget=mostly(st.integers(-1, 40000)),
    thinkingLevel=mostly(st.sampled_from(["LOW", "HIGH", "minimal"])),
    includeThoughts=mostly(st.booleans()),
)
OPTIONAL = {
    "systemInstruction": st.one_of(st.text(max_size=4), st.just({"parts": [{"text": "s"}]})),
    "tools": st.lists(
        obj(
            functionDeclarations=mostly(st.lists(declaration, max_size=2)), googleSearch=json_values
        ),
        max_size=2,
    ),
    "toolConfig": obj(
        functionCallingConfig=obj(
            mode=mostly(st.sampled_from(["AUTO", "ANY", "NONE", 2, 9])),
            allowedFunctionNames=mostly(st.lists(st.just("f"), max_size=2)),
        )
    ),
    "generationConfig": obj(
        temperature=mostly(st.floats(0, 2)),
        topK=mostly(st.integers(0, 100)),
        maxOutputTokens=mostly(st.integers(1, 10**6)),
        stopSequences=mostly(st.lists(st.text(max_size=3), max_size=2)),
        responseMimeType=mostly(st.sampled_from(["application/json", "text/plain"])),
        responseSchema=mostly(schema),
        responseJsonSchema=json_values,
        thinkingConfig=thinking,
        seed=json_values,
        responseModalities=mostly(st.lists(st.integers(0, 5), max_size=2)),
    ),
    "safetySettings": st.lists(
        obj(category=mostly(st.integers(0, 12)), threshold=json_values), max_size=2
    ),
}
bodies = st.fixed_dictionaries(
    {"contents": mostly(st.lists(content, min_size=1, max_size=3))},
    optional={key: mostly(value) for key, value in OPTIONAL.items()},
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(json_values, bodies), st.sampled_from(["gemini-3-flash", "claude-sonnet-4-6"]))
def test_decode_raises_only_invalid_request(value: Any, model: str) -> None:
    try:
        req = inbound.decode_request(value, model=model)
        outbound.encode_request(req, model=model)
    except InvalidRequest as exc:
        assert exc.http_status == 400
