"""Gemini outbound codec: family table, thinking and signature policy, schema cleaning, and the
stream decoder's edge cases (every decoder output must pass `events.check`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from antigravity_gateway.core import events
from antigravity_gateway.core.events import Finish, PartEnd, PartStart, Start, TextDelta
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
)
from antigravity_gateway.errors import InvalidRequest, UpstreamError
from antigravity_gateway.protocols.gemini import outbound
from antigravity_gateway.protocols.gemini.families import spec_for
from antigravity_gateway.protocols.gemini.schema import clean_schema

from .test_openai_chat_inbound import json_values

HI = Message(role="user", parts=(Text(text="hi"),))


@pytest.mark.parametrize(
    ("model", "family", "max_output", "thinking"),
    [
        ("claude-sonnet-4-6", "claude", 64000, "budget"),
        ("claude-opus-4-6-thinking", "claude", 64000, "budget"),
        ("gemini-2.5-flash", "gemini", 65536, "budget"),
        ("gemini-3-flash", "gemini", 65536, "level"),
        ("gemini-3.1-flash-lite", "gemini", 65536, "level"),
        ("gemini-pro-agent", "gemini", 65536, "level"),
        ("gpt-oss-120b-medium", "other", 32768, "none"),
        ("something-new", "other", 32768, "none"),
    ],
)
def test_family_table(model: str, family: str, max_output: int, thinking: str) -> None:
    spec = spec_for(model)
    assert (spec.family, spec.max_output, spec.thinking) == (family, max_output, thinking)


def generation(model: str, **fields: Any) -> dict[str, Any]:
    req = ChatRequest(model="client", messages=(HI,), **fields)
    return dict(outbound.encode_request(req, model=model).get("generationConfig", {}))


def think(budget: int | None = None, level: str = "", include: bool = True) -> dict[str, Any]:
    config: dict[str, Any] = {"includeThoughts": include}
    if budget is not None:
        config["thinkingBudget"] = budget
    if level:
        config["thinkingLevel"] = level
    return {"thinkingConfig": config}


GENERATION: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("claude-sonnet-4-6", {"reasoning": Reasoning(budget=500)},
     {"maxOutputTokens": 64000, **think(1024)}),
    ("claude-sonnet-4-6", {"reasoning": Reasoning(budget=70000), "max_tokens": 100},
     {"maxOutputTokens": 64000, **think(63999)}),
    ("claude-sonnet-4-6", {"reasoning": Reasoning(include_thoughts=False), "max_tokens": 9000},
     {"maxOutputTokens": 9000, **think(8192, include=False)}),
    ("gemini-3-pro-high", {"reasoning": Reasoning(effort="minimal")}, think(level="low")),
    ("gemini-3-flash", {"reasoning": Reasoning()}, think()),
    ("gemini-2.5-flash", {"reasoning": Reasoning(budget=-1)}, think()),
    ("gemini-2.5-flash", {"reasoning": Reasoning(effort="high"), "max_tokens": 70000},
     {"maxOutputTokens": 65536, **think(24576)}),
    ("gemini-3-flash", {"max_tokens": 10, "stop": ("x",), "top_k": 3},
     {"maxOutputTokens": 10, "stopSequences": ["x"], "topK": 3}),
]  # fmt: skip


@pytest.mark.parametrize(("model", "fields", "expected"), GENERATION)
def test_generation_config(model: str, fields: dict[str, Any], expected: dict[str, Any]) -> None:
    assert generation(model, **fields) == expected


def test_nothing_to_send_is_invalid() -> None:
    unsigned = Message(role="assistant", parts=(Thinking(text="t"), Text(text="")))
    req = ChatRequest(model="m", messages=(unsigned,), system=(Text(text="sys"),))
    with pytest.raises(InvalidRequest):
        outbound.encode_request(req, model="gemini-3-flash")


def test_foreign_call_signature_gets_the_sentinel_only_for_gemini() -> None:
    call = ToolCall(id="c", name="f", arguments={}, signature=Signature(value="R", family="claude"))
    req = ChatRequest(model="m", messages=(HI, Message(role="assistant", parts=(call,))))
    gemini = outbound.encode_request(req, model="gemini-3-flash")["contents"][1]["parts"][0]
    claude = outbound.encode_request(req, model="claude-sonnet-4-6")["contents"][1]["parts"][0]
    assert gemini["thoughtSignature"] == "skip_thought_signature_validator"
    assert claude == {"functionCall": {"name": "f", "args": {}, "id": "c"}, "thoughtSignature": "R"}


def test_decoded_signatures_replay_to_their_own_family_only() -> None:
    chunk = {
        "responseId": "r",
        "modelVersion": "gemini-3-flash-a",
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"functionCall": {"name": "f", "args": {"a": 1}}, "thoughtSignature": "S1"}
                    ]
                }
            }
        ],
    }
    resp = events.assemble(events.check(outbound.decode_response(chunk)))
    turn = Message(role="assistant", parts=resp.parts)
    req = ChatRequest(model="m", messages=(HI, turn))
    replayed = outbound.encode_request(req, model="gemini-3-pro-high")["contents"][1]["parts"][0]
    assert replayed == {"functionCall": {"name": "f", "args": {"a": 1}, "id": "call_r_0"},
                        "thoughtSignature": "S1"}  # fmt: skip
    foreign = outbound.encode_request(req, model="claude-sonnet-4-6")["contents"][1]["parts"][0]
    assert "thoughtSignature" not in foreign


# --- stream decoder edge cases -------------------------------------------------------------
def parts_chunk(*parts: Any, **extra: Any) -> dict[str, Any]:
    return {"candidates": [{"content": {"role": "model", "parts": list(parts)}}], **extra}


def run(decoder: outbound.StreamDecoder, *chunks: Any) -> list[events.Event]:
    out = [ev for chunk in chunks for ev in decoder.feed(chunk)]
    return events.check(out + decoder.close())


def test_signature_before_any_part_signs_the_next_one() -> None:
    evs = run(
        outbound.StreamDecoder(response_id="fallback", model="claude-sonnet-4-6"),
        parts_chunk({"text": "", "thoughtSignature": "early"}, modelVersion="gemini-3-flash"),
        parts_chunk({"text": "a"}, {"text": "b"}),
    )
    sig = Signature(value="early", family="claude")  # the constructor's model decides the family
    assert evs == [
        Start(id="fallback", model="gemini-3-flash"),
        PartStart(index=0, kind="text"),
        TextDelta(index=0, text="a"),
        TextDelta(index=0, text="b"),
        PartEnd(index=0, signature=sig),
        Finish(reason="stop"),
    ]


def test_second_signature_with_nothing_to_carry_it_becomes_an_empty_thinking_part() -> None:
    evs = run(
        outbound.StreamDecoder(model="gemini-3-flash"),
        parts_chunk({"text": "x", "thoughtSignature": "one"}, {"thoughtSignature": "two"}),
    )
    resp = events.assemble(evs)
    assert resp.parts == (
        Text(text="x", signature=Signature(value="one", family="gemini")),
        Thinking(text="", signature=Signature(value="two", family="gemini")),
    )


def test_signed_thinking_closes_its_part() -> None:
    evs = run(
        outbound.StreamDecoder(model="claude-opus-4-6-thinking"),
        parts_chunk({"text": "a", "thought": True, "thoughtSignature": "s"}),
        parts_chunk({"text": "b", "thought": True}),
    )
    assert [p.text for p in events.assemble(evs).parts if isinstance(p, Thinking)] == ["a", "b"]


def test_junk_is_skipped_and_feed_after_close_is_ignored() -> None:
    decoder = outbound.StreamDecoder()
    junk: list[Any] = [
        "text", {"candidates": "x"}, {"candidates": [1]}, parts_chunk(1, {"executableCode": {}}),
        parts_chunk({"functionCall": {"name": 3, "args": []}}),
        {"usageMetadata": {"promptTokenCount": True}},
    ]  # fmt: skip
    evs = run(decoder, *junk)
    assert decoder.feed(parts_chunk({"text": "late"})) == [] and decoder.close() == []
    assert events.assemble(evs).parts == (ToolCall(id="call_0", name="", arguments={}),)


def test_error_chunk_raises() -> None:
    decoder = outbound.StreamDecoder()
    decoder.feed(parts_chunk({"text": "a"}))
    with pytest.raises(UpstreamError) as caught:
        decoder.feed({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}})
    assert caught.value.http_status == 429 and caught.value.message == "quota"
    with pytest.raises(UpstreamError) as caught:
        decoder.feed({"error": {"code": "x"}})
    assert caught.value.http_status == 502


function_call = st.fixed_dictionaries(
    {"name": st.text(max_size=2)}, optional={"args": json_values, "id": json_values}
)
part_values = st.fixed_dictionaries(
    {},
    optional={
        "text": st.text(max_size=3) | json_values,
        "thought": st.booleans() | json_values,
        "thoughtSignature": st.sampled_from(["s1", "s2", ""]) | json_values,
        "functionCall": function_call | json_values,
        "inlineData": st.just({"mimeType": "image/png", "data": "A"}) | json_values,
        "fileData": st.just({"fileUri": "gs://x"}) | json_values,
    },
)
candidate = st.fixed_dictionaries(
    {},
    optional={
        "content": st.fixed_dictionaries(
            {"parts": st.lists(part_values | json_values, max_size=4)}
        ),
        "finishReason": st.sampled_from(["STOP", "MAX_TOKENS", "SAFETY", "OTHER"]) | json_values,
    },
)
usage = st.dictionaries(
    st.sampled_from(["promptTokenCount", "thoughtsTokenCount"]), st.integers(-5, 100) | json_values
)
chunks = st.fixed_dictionaries(
    {},
    optional={
        "candidates": st.lists(candidate, max_size=2) | json_values,
        "usageMetadata": usage | json_values,
        "responseId": json_values,
        "modelVersion": json_values,
        "promptFeedback": json_values,
    },
)


@settings(max_examples=300, deadline=None)
@given(st.lists(chunks | json_values, max_size=5))
def test_decoder_output_always_passes_check(stream: list[Any]) -> None:
    try:
        evs = run(outbound.StreamDecoder(response_id="r"), *stream)
    except UpstreamError:  # a generated chunk that happens to carry an "error" object
        return
    response = events.assemble(evs)
    assert response.usage.input_tokens >= 0


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), json_values, max_size=6))
def test_clean_schema_never_fails(schema: dict[str, Any]) -> None:
    json.dumps(clean_schema(schema))


def test_clean_schema_bounds_ref_fan_out() -> None:
    defs = {f"d{i}": {"type": "object", "properties": {"a": {"$ref": f"#/$defs/d{i + 1}"},
                                                       "b": {"$ref": f"#/$defs/d{i + 1}"}}}
            for i in range(40)}  # fmt: skip
    cleaned = clean_schema({"$defs": defs, "$ref": "#/$defs/d0"})
    assert len(json.dumps(cleaned)) < 1_000_000


def test_claude_does_not_think_when_a_tool_is_forced() -> None:
    tool = Tool(name="f")
    forced = generation(
        "claude-opus-4-6-thinking", tools=(tool,), tool_choice=ToolChoice(mode="required")
    )
    assert "thinkingConfig" not in forced
    free = generation("claude-opus-4-6-thinking", tools=(tool,), tool_choice=ToolChoice())
    assert free["thinkingConfig"] == {"includeThoughts": True, "thinkingBudget": 16000}


def test_a_waiting_signature_skips_media() -> None:
    evs = run(
        outbound.StreamDecoder(model="gemini-3-flash"),
        parts_chunk(
            {"thoughtSignature": "s"}, {"inlineData": {"mimeType": "image/png", "data": "A"}}
        ),
        parts_chunk({"text": "after"}),
    )
    assert events.assemble(evs).parts[1] == Text(
        text="after", signature=Signature(value="s", family="gemini")
    )
