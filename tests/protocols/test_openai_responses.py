"""Responses API codec: bad inputs name their path, the fuzzer only ever gets InvalidRequest,
histories continue, signatures round-trip sealed, and the SSE family is in the order the openai
SDK's stream helper and Codex need."""

from __future__ import annotations

import base64
import json
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
)
from antigravity_gateway.core.messages import (
    ChatResponse,
    Media,
    Message,
    Reasoning,
    Signature,
    Text,
    Thinking,
    ToolCall,
    ToolResult,
)
from antigravity_gateway.errors import InvalidRequest, UpstreamError
from antigravity_gateway.protocols.openai_responses import inbound, sealed
from antigravity_gateway.protocols.openai_responses.output import encode_response
from antigravity_gateway.protocols.openai_responses.stream import StreamEncoder

from .test_openai_chat_inbound import assert_invalid, json_values, mostly

USER = {"role": "user", "content": "hi"}
FN = {"type": "function", "name": "f", "parameters": {"type": "object", "properties": {}}}
CALL = {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-5", "input": [USER], **fields}


def items(*input_items: Any) -> dict[str, Any]:
    return body(input=list(input_items))


def user_parts(*parts: Any) -> dict[str, Any]:
    return items({"role": "user", "content": list(parts)})


BAD: list[tuple[Any, str, str]] = [
    ("hi", "", "must be a JSON object"),
    ({"input": "hi"}, "model", "is required"),
    (body(model=""), "model", "must not be empty"),
    (body(input=5), "input", "must be an array"),
    (body(input=[3]), "input[0]", "must be an object"),
    (items({"content": "x"}), "input[0].type", "is required"),
    (items({"type": "telepathy"}), "input[0].type", "unknown input item type"),
    (items({"type": "item_reference", "id": "msg_1"}), "input[0].type", "not supported"),
    (items({"role": "robot", "content": "x"}), "input[0].role", "must be"),
    (items({"type": "message", "content": "x"}), "input[0].role", "must be"),
    (items({"role": "user"}), "input[0].content", "is required"),
    (items({"role": "user", "content": 7}), "input[0].content", "must be an array"),
    (user_parts({"type": "input_audio"}), "input[0].content[0].type", "unsupported content"),
    (items({"role": "system", "content": [{"type": "input_image", "image_url": "x"}]}),
     "input[0].content[0].type", "unsupported content"),
    (items({"role": "assistant", "content": [{"type": "input_file"}]}),
     "input[0].content[0].type", "unsupported content"),
    (user_parts({"type": "input_text"}), "input[0].content[0].text", "is required"),
    (user_parts({"type": "input_image", "image_url": "ftp://h/x.png"}),
     "input[0].content[0].image_url", "http(s) URL"),
    (user_parts({"type": "input_image", "image_url": "data:image/png,xx"}),
     "input[0].content[0].image_url", "base64 data URL"),
    (user_parts({"type": "input_image", "file_id": "file-1"}),
     "input[0].content[0].file_id", "file ids are not supported"),
    (user_parts({"type": "input_image"}), "input[0].content[0].image_url", "is required"),
    (user_parts({"type": "input_file", "file_data": "JVBE"}),
     "input[0].content[0].file_data", "base64 data URL"),
    (user_parts({"type": "input_file", "filename": "a.pdf"}),
     "input[0].content[0].file_data", "is required"),
    (items({**CALL, "call_id": ""}), "input[0].call_id", "must not be empty"),
    (items({**CALL, "name": None}), "input[0].name", "is required"),
    (items({**CALL, "arguments": "{nope"}), "input[0].arguments", "not valid JSON"),
    (items({**CALL, "arguments": {"a": 1}}), "input[0].arguments", "must be a string"),
    (items({**CALL, "namespace": 3}), "input[0].namespace", "must be a string"),
    (items({"type": "custom_tool_call", "call_id": "c", "name": "p", "input": 1}),
     "input[0].input", "must be a string"),
    (items({"type": "function_call_output", "output": "x"}), "input[0].call_id", "is required"),
    (items({"type": "function_call_output", "call_id": "zz", "output": "x"}),
     "input[0].call_id", "matches no earlier tool call"),
    (items(CALL, {"type": "function_call_output", "call_id": "c1"}),
     "input[1].output", "is required"),
    (items(CALL, {"type": "function_call_output", "call_id": "c1", "output": [{"type": "x"}]}),
     "input[1].output[0].type", "unsupported content"),
    (items({"type": "reasoning", "summary": "x"}), "input[0].summary", "must be an array"),
    (items({"type": "reasoning", "summary": [{"type": "summary_text"}]}),
     "input[0].summary[0].text", "is required"),
    (items({"type": "reasoning", "encrypted_content": 5}),
     "input[0].encrypted_content", "must be a string"),
    (body(instructions=["x"]), "instructions", "must be a string"),
    (body(tools={}), "tools", "must be an array"),
    (body(tools=[{"type": "function"}]), "tools[0].name", "is required"),
    (body(tools=[{"name": "f"}]), "tools[0].type", "is required"),
    (body(tools=[{"type": "robot", "name": "r"}]), "tools[0].type", "unsupported tool type"),
    (body(tools=[{**FN, "parameters": []}]), "tools[0].parameters", "must be an object"),
    (body(tools=[{"type": "custom", "name": "p", "format": {"type": "xml"}}]),
     "tools[0].format.type", '"text" or "grammar"'),
    (body(tools=[{"type": "custom", "name": "p", "format": {"type": "grammar"}}]),
     "tools[0].format.syntax", "is required"),
    (body(tools=[{"type": "namespace", "name": "ns"}]), "tools[0].tools", "is required"),
    (body(tools=[{"type": "namespace", "name": "ns", "tools": [{"type": "web_search"}]}]),
     "tools[0].tools[0].name", "is required"),
    (body(tool_choice="sometimes"), "tool_choice", "must be"),
    (body(tool_choice={"type": "function", "name": "g"}, tools=[FN]),
     "tool_choice.name", "names no declared tool"),
    (body(max_output_tokens=0), "max_output_tokens", "must be >= 1"),
    (body(temperature=9), "temperature", "between 0 and 2"),
    (body(top_p="x"), "top_p", "must be a number"),
    (body(stream=1), "stream", "must be a boolean"),
    (body(store="no"), "store", "must be a boolean"),
    (body(reasoning="high"), "reasoning", "must be an object"),
    (body(reasoning={"effort": "max"}), "reasoning.effort", "must be one of"),
    (body(reasoning={"summary": "long"}), "reasoning.summary", "must be one of"),
    (body(text="json"), "text", "must be an object"),
    (body(text={"format": {"type": "yaml"}}), "text.format.type", "must be"),
    (body(text={"format": "json"}), "text.format", "must be an object"),
    (body(text={"format": {"type": "json_schema", "schema": 1}}),
     "text.format.schema", "must be an object"),
    (body(include="all"), "include", "must be an array"),
    (body(include=[1]), "include[0]", "must be a string"),
    (body(background=True), "background", "not supported"),
    (body(conversation="conv_1"), "conversation", "not supported"),
    (body(prompt={"id": "pmpt_1"}), "prompt", "not supported"),
    (body(previous_response_id=7), "previous_response_id", "must be a string"),
]  # fmt: skip


@pytest.mark.parametrize(("request_body", "path", "message"), BAD)
def test_bad_input_names_its_path(request_body: Any, path: str, message: str) -> None:
    def decode(value: Any) -> object:
        inbound.previous_response_id(value)
        return inbound.decode_request(value)

    assert_invalid(decode, request_body, path, message)


def test_a_codex_request() -> None:
    decoded = inbound.decode_request(
        body(
            input=[
                {"type": "message", "role": "developer", "content": [
                    {"type": "input_text", "text": "You are Codex."}]},
                {"type": "message", "role": "user", "content": [
                    {"type": "input_text", "text": "say hi"}]},
            ],
            instructions="Top.",
            store=False,
            reasoning={"summary": "auto"},
            include=["reasoning.encrypted_content"],
            prompt_cache_key="thread-1",
            user="someone",
            tools=[FN, {"type": "web_search"}, {"type": "tool_search", "execution": "client"}],
        )
    )  # fmt: skip
    chat = decoded.chat
    assert [t.text for t in chat.system] == ["Top.", "You are Codex."]
    assert chat.messages == (Message(role="user", parts=(Text(text="say hi"),)),)
    assert [t.name for t in chat.tools] == ["f"]
    assert chat.reasoning == Reasoning() and chat.session_key == "thread-1"
    assert not decoded.store and decoded.include_encrypted and decoded.summaries
    assert [t.text for t in decoded.history.system] == ["You are Codex."]  # not instructions


def test_history_continues_with_outputs_for_its_calls() -> None:
    history = inbound.History(
        system=(Text(text="Be kind."),),
        messages=(
            Message(role="user", parts=(Text(text="hi"),)),
            Message(role="assistant", parts=(ToolCall(id="c1", name="f", arguments={}),)),
        ),
    )
    output = {"type": "function_call_output", "call_id": "c1", "output": "done"}
    decoded = inbound.decode_request(body(input=[output]), history=history)
    assert decoded.chat.system == (Text(text="Be kind."),)
    assert decoded.chat.messages[:2] == history.messages
    assert decoded.chat.messages[2].parts == (
        ToolResult(call_id="c1", name="f", content=(Text(text="done"),)),
    )
    answer = ChatResponse(id="r", model="m", parts=(Text(text="ok"),), finish_reason="stop")
    assert decoded.history.answered(answer).messages[-1].parts == (Text(text="ok"),)


def test_reasoning_items_carry_our_signed_thinking_only() -> None:
    mine = Thinking(text="exact words", signature=Signature(value="EjQK", family="claude"))
    sealed_mine = sealed.seal(mine)
    assert sealed_mine is not None and sealed.unseal(sealed_mine) == mine
    assert sealed.seal(Thinking(text="unsigned")) is None
    bad_family = "agm1:" + base64.urlsafe_b64encode(b'{"family":"x","signature":"s"}').decode()
    for foreign in ("gAAAAB", "agm1:!!", "agm1:e30=", bad_family, ""):
        assert sealed.unseal(foreign) is None
    decoded = inbound.decode_request(
        items(
            USER,
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "short"}],
             "encrypted_content": sealed_mine},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "a"},
                                              {"type": "summary_text", "text": "b"}]},
            {"type": "reasoning", "summary": [], "encrypted_content": None},
            {"type": "reasoning", "summary": [], "encrypted_content": "gAAAAB"},
        )
    )  # fmt: skip
    assert decoded.chat.messages[1].parts == (mine, Thinking(text="a\n\nb"))


def test_tool_choice_forms() -> None:
    ns = {"type": "namespace", "name": "ns", "tools": [FN]}
    tools = [FN, ns, {"type": "custom", "name": "p"}]
    expected = {
        "required": ("required", ""),
        json.dumps({"type": "custom", "name": "p"}): ("tool", "p"),
        json.dumps({"type": "function", "name": "f", "namespace": "ns"}): ("tool", "ns__f"),
        json.dumps({"type": "allowed_tools", "mode": "required", "tools": []}): ("required", ""),
        json.dumps({"type": "web_search_preview"}): ("auto", ""),
    }
    for choice, (mode, name) in expected.items():
        value = json.loads(choice) if choice.startswith("{") else choice
        decoded = inbound.decode_request(body(tools=tools, tool_choice=value)).chat
        assert decoded.tool_choice is not None
        assert (decoded.tool_choice.mode, decoded.tool_choice.name) == (mode, name)


# --- fuzzing: any JSON value in, a ResponsesRequest or InvalidRequest out -----------------
content_part = st.fixed_dictionaries(
    {"type": st.sampled_from(["input_text", "output_text", "input_image", "input_file", "x"])},
    optional={
        "text": mostly(st.text(max_size=4)),
        "image_url": mostly(st.sampled_from(["data:a/b;base64,x", "https://h/p.png", "x"])),
        "file_data": mostly(st.just("data:application/pdf;base64,JV")),
    },
)
item = st.fixed_dictionaries(
    {"type": mostly(st.sampled_from(
        ["message", "function_call", "custom_tool_call", "function_call_output",
         "custom_tool_call_output", "reasoning", "web_search_call", "x"]))},
    optional={
        "role": mostly(st.sampled_from(["user", "assistant", "system", "developer", "x"])),
        "content": mostly(st.text(max_size=4) | st.lists(content_part, max_size=3)),
        "call_id": mostly(st.sampled_from(["a", "b"])),
        "name": mostly(st.just("f")),
        "arguments": mostly(st.sampled_from(["{}", "", "[", '{"a": 1}'])),
        "input": mostly(st.text(max_size=4)),
        "output": mostly(st.text(max_size=4) | st.lists(content_part, max_size=2)),
        "summary": mostly(st.lists(st.fixed_dictionaries({"text": st.text(max_size=3)}))),
        "encrypted_content": mostly(st.sampled_from(["agm:gemini:x", "blob"])),
    },
)  # fmt: skip
tool = st.fixed_dictionaries(
    {"type": mostly(st.sampled_from(["function", "custom", "namespace", "web_search"]))},
    optional={
        "name": mostly(st.sampled_from(["f", "g"])),
        "parameters": json_values,
        "format": mostly(st.just({"type": "grammar", "syntax": "lark", "definition": "x"})),
        "tools": st.lists(st.just(FN), max_size=2),
    },
)
OPTIONAL = {
    "instructions": st.text(max_size=4),
    "tools": st.lists(tool, max_size=3),
    "tool_choice": st.sampled_from(["auto", "none", "required", "x"])
    | st.just({"type": "function", "name": "f"}),
    "max_output_tokens": st.integers(-1, 10**6),
    "temperature": st.floats(0, 2),
    "reasoning": st.fixed_dictionaries(
        {}, optional={"effort": st.sampled_from(["low", "high", "x"]),
                      "summary": st.sampled_from(["auto", "none", "x"])}
    ),
    "text": st.fixed_dictionaries({"format": st.sampled_from(
        [{"type": "text"}, {"type": "json_object"}, {"type": "json_schema", "schema": {}}])}),
    "include": st.lists(st.sampled_from(["reasoning.encrypted_content", "x"]), max_size=2),
    "store": st.booleans(),
    "stream": st.booleans(),
}  # fmt: skip
inputs = st.text(max_size=3) | st.lists(item, max_size=4)
bodies = st.fixed_dictionaries(
    {"model": mostly(st.just("m")), "input": mostly(inputs)},
    optional={key: mostly(value) for key, value in OPTIONAL.items()},
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(json_values, bodies))
def test_decode_request_raises_only_invalid_request(value: Any) -> None:
    try:
        inbound.decode_request(value)
    except InvalidRequest as exc:
        assert exc.http_status == 400


# --- output and stream --------------------------------------------------------------------
SIG = Signature(value="sig", family="claude")


def context(**flags: Any) -> inbound.Context:
    return inbound.Context(id="resp_t", created_at=1, model="gpt-5", **flags)


def answer_events() -> list[Event]:
    return [
        Start(id="u", model="claude-sonnet-4-6"),
        PartStart(index=0, kind="thinking"),
        ThinkingDelta(index=0, text="hm"),
        PartEnd(index=0, signature=SIG),
        PartStart(index=1, kind="text"),
        TextDelta(index=1, text="Hel"),
        TextDelta(index=1, text="lo"),
        PartEnd(index=1),
        PartStart(index=2, kind="tool_call", tool_id="c9", tool_name="f"),
        PartEnd(index=2),
        Finish(reason="tool_use"),
    ]


def frames(encoder: StreamEncoder, evs: list[Event]) -> list[dict[str, Any]]:
    raw = b"".join(f for ev in evs for f in encoder.feed(ev)).decode()
    return [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: ")]


def test_stream_sequence_without_summaries() -> None:
    encoder = StreamEncoder(context())
    out = frames(encoder, answer_events())
    assert [f["sequence_number"] for f in out] == list(range(len(out)))
    assert [f["type"].removeprefix("response.") for f in out] == [
        "created", "in_progress",
        "output_item.added", "output_item.done",
        "output_item.added", "content_part.added", "output_text.delta", "output_text.delta",
        "output_text.done", "content_part.done", "output_item.done",
        "output_item.added", "function_call_arguments.done", "output_item.done",
        "completed",
    ]  # fmt: skip
    reasoning = out[3]["item"]
    assert reasoning == {"id": "rs_t_0", "type": "reasoning", "summary": []}
    assert out[8]["text"] == "Hello" and out[12]["arguments"] == "{}"
    final = out[-1]["response"]
    assert [i["id"] for i in final["output"]] == ["rs_t_0", "msg_t_1", "fc_t_2"]
    assert final["status"] == "completed" and encoder.response is not None
    assert encoder.feed(Finish(reason="stop")) == [] and encoder.fail(UpstreamError(500, "")) == []


def test_stream_with_summaries_and_encrypted_reasoning() -> None:
    out = frames(StreamEncoder(context(summaries=True, include_encrypted=True)), answer_events())
    kinds = [f["type"].removeprefix("response.") for f in out[2:7]]
    assert kinds == [
        "output_item.added", "reasoning_summary_part.added", "reasoning_summary_text.delta",
        "reasoning_summary_text.done", "reasoning_summary_part.done",
    ]  # fmt: skip
    item = out[7]["item"]
    assert item["summary"] == [{"type": "summary_text", "text": "hm"}]
    assert sealed.unseal(item["encrypted_content"]) == Thinking(text="hm", signature=SIG)


def test_stream_fail_and_incomplete() -> None:
    encoder = StreamEncoder(context())
    out = frames(encoder, answer_events()[:5])
    failed = [
        json.loads(f.decode().split("data: ")[1]) for f in encoder.fail(UpstreamError(429, ""))
    ]
    assert failed[0]["type"] == "response.failed"
    response = failed[0]["response"]
    assert response["error"]["code"] == "rate_limit_exceeded"
    assert [i["type"] for i in response["output"]] == ["reasoning"]
    assert failed[0]["sequence_number"] == len(out)
    early = frames(StreamEncoder(context()), [])
    assert early == []
    kinds = [json.loads(f.decode().split("data: ")[1])["type"]
             for f in StreamEncoder(context()).fail(UpstreamError(502, ""))]  # fmt: skip
    assert kinds == ["response.created", "response.failed"]
    evs = [Start(id="u", model="m"), Finish(reason="length")]
    assert frames(StreamEncoder(context()), evs)[-1]["type"] == "response.incomplete"


def test_response_object() -> None:
    resp = ChatResponse(
        id="u",
        model="m",
        parts=(Media(mime="image/png", data="AA=="), ToolCall(id="c", name="ns__f", arguments={})),
        finish_reason="content_filter",
    )
    ctx = inbound.decode_request(
        body(tools=[{"type": "namespace", "name": "ns", "tools": [FN]}], metadata={"k": "v"})
    ).context(id="resp_x", created_at=5)
    out = encode_response(resp, ctx)
    assert out["status"] == "incomplete"
    assert out["incomplete_details"] == {"reason": "content_filter"}
    assert out["output"][0]["type"] == "image_generation_call"
    assert out["output"][0]["result"] == "AA=="
    assert out["output"][1]["name"] == "f" and out["output"][1]["namespace"] == "ns"
    assert out["metadata"] == {"k": "v"} and out["tool_choice"] == "auto"
