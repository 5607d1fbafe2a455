"""Fuzzing material shared by the codec and the app fuzz tests: one rich valid body per protocol
and a hypothesis strategy that puts any JSON value anywhere in it (or drops a field, or adds a
known one), plus whole random bodies. Seeded (derandomized) so CI runs are reproducible."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
       "rkJggg==")
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}

FUZZ = settings(
    max_examples=2000, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

OPENAI_CHAT: dict[str, Any] = {
    "model": "gemini-3-flash", "stream": False, "temperature": 0.5, "top_p": 0.9,
    "max_tokens": 100, "stop": ["END"], "reasoning_effort": "low", "n": 1,
    "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": SCHEMA}},
    "tools": [{"type": "function", "function": {
        "name": "weather", "description": "d", "parameters": SCHEMA}}],
    "tool_choice": "auto", "stream_options": {"include_usage": True},
    "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {
            "type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "user", "content": "thanks"},
    ],
}
COMPLETIONS: dict[str, Any] = {
    "model": "gemini-3-flash", "prompt": ["Say hi twice"], "max_tokens": 20, "echo": True,
    "temperature": 0.2, "stop": "\n", "stream": False, "suffix": "", "n": 1,
}
RESPONSES: dict[str, Any] = {
    "model": "gemini-3-flash", "instructions": "be brief", "store": False, "stream": False,
    "reasoning": {"effort": "low", "summary": "auto"}, "max_output_tokens": 100,
    "text": {"format": {"type": "json_schema", "name": "w", "schema": SCHEMA}},
    "tools": [{"type": "function", "name": "weather", "parameters": SCHEMA}],
    "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "hi"},
                                     {"type": "input_image",
                                      "image_url": f"data:image/png;base64,{PNG}"}]},
        {"type": "function_call", "call_id": "c1", "name": "weather",
         "arguments": "{\"city\": \"Oslo\"}"},
        {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "ok"}]},
    ],
}
ANTHROPIC: dict[str, Any] = {
    "model": "gemini-3-flash", "max_tokens": 2048, "stream": False, "temperature": 0.3,
    "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
    "thinking": {"type": "enabled", "budget_tokens": 1024}, "stop_sequences": ["END"],
    "metadata": {"user_id": "u"}, "tool_choice": {"type": "auto"},
    "tools": [{"name": "weather", "description": "d", "input_schema": SCHEMA}],
    "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "hi"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": PNG}}]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hm", "signature": "sig"},
            {"type": "tool_use", "id": "t1", "name": "weather", "input": {"city": "Oslo"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": [
                {"type": "text", "text": "sunny"}]}]},
    ],
}
ANTHROPIC_COUNT = {k: v for k, v in ANTHROPIC.items() if k not in ("max_tokens", "stream")}
GEMINI: dict[str, Any] = {
    "systemInstruction": {"parts": [{"text": "be brief"}]},
    "generationConfig": {"temperature": 0.4, "maxOutputTokens": 2048, "stopSequences": ["END"],
                         "thinkingConfig": {"thinkingBudget": 512, "includeThoughts": True},
                         "responseMimeType": "application/json", "responseSchema": SCHEMA},
    "tools": [{"functionDeclarations": [{"name": "weather", "parameters": SCHEMA}]}],
    "toolConfig": {"functionCallingConfig": {"mode": "AUTO"}},
    "contents": [
        {"role": "user", "parts": [{"text": "hi"},
                                   {"inlineData": {"mimeType": "image/png", "data": PNG}}]},
        {"role": "model", "parts": [{"functionCall": {"name": "weather",
                                                      "args": {"city": "Oslo"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "weather",
                                                         "response": {"r": "sunny"}}}]},
    ],
}
GEMINI_COUNT: dict[str, Any] = {"contents": GEMINI["contents"]}

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
           | st.sampled_from(["user", "assistant", "model", "system", "tool", "text", "image",
                              "function", "data:image/png;base64,AAAA", "http://", "auto"]))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """`base` with one to three random edits; now and then a whole random body."""
    if draw(st.integers(0, 19)) == 0:
        return draw(json_values)
    body = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(body)
        path = draw(st.sampled_from(paths))
        body = _edit(body, path, draw(st.sampled_from(("set", "drop", "add"))), draw(json_values),
                     draw(st.text(max_size=8)))
    return body


def _edit(body: Any, path: tuple[Any, ...], how: str, value: Any, key: str) -> Any:
    if not path:
        return value if how == "set" else body
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "set":
        parent[last] = value
    elif how == "drop":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last][key] = value
    elif isinstance(parent[last], list):
        parent[last].append(value)
    else:
        parent[last] = value
    return body
