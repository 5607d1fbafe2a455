"""Hub <-> an OpenAI-compatible chat completions upstream (vLLM, Ollama, OpenRouter...). Pure.

Dropped on the way up: thinking and signatures (the format has no place for them), and top_k.
Coming back, `reasoning_content` / `reasoning` (DeepSeek, vLLM, OpenRouter) is read as thinking.
"""

from __future__ import annotations

from typing import Any

import msgspec

from antigravity_gateway.core.events import (
    Event,
    Finish,
    PartEnd,
    PartKind,
    PartStart,
    Start,
    TextDelta,
    ThinkingDelta,
    ToolArgsDelta,
)
from antigravity_gateway.core.messages import (
    ChatRequest,
    FinishReason,
    Media,
    Message,
    Text,
    ToolCall,
    ToolChoice,
    ToolResult,
    Usage,
)
from antigravity_gateway.errors import UpstreamError

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "content_filter",
}


def encode_request(req: ChatRequest, *, model: str) -> dict[str, Any]:
    """A streaming request that asks for usage in the last chunk; an effort becomes
    `reasoning_effort` only when the client named one."""
    messages: list[dict[str, Any]] = []
    if req.system:
        messages.append({"role": "system", "content": "\n\n".join(t.text for t in req.system)})
    for message in req.messages:
        messages += encode_message(message)
    body: dict[str, Any] = {"model": model, "messages": messages, "stream": True,
                            "stream_options": {"include_usage": True}}
    if req.tools:
        body["tools"] = [
            {"type": "function", "function": {"name": t.name, "description": t.description,
                                              "parameters": t.parameters or {"type": "object"}}}
            for t in req.tools
        ]
        if req.tool_choice is not None:
            body["tool_choice"] = _tool_choice(req.tool_choice)
    for key, value in (("max_tokens", req.max_tokens), ("temperature", req.temperature),
                       ("top_p", req.top_p)):
        if value is not None:
            body[key] = value
    if req.stop:
        body["stop"] = list(req.stop)
    if req.reasoning is not None and req.reasoning.effort is not None:
        body["reasoning_effort"] = req.reasoning.effort
    if req.json_schema is not None:
        body["response_format"] = (
            {"type": "json_schema", "json_schema": {"name": "response", "schema": req.json_schema}}
            if req.json_schema else {"type": "json_object"}
        )
    return body


def _tool_choice(choice: ToolChoice) -> Any:
    if choice.mode == "tool":
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode


def encode_message(message: Message) -> list[dict[str, Any]]:
    """One hub message; tool results become `tool` messages (before the user's other content)."""
    if message.role == "assistant":
        text = "".join(p.text for p in message.parts if isinstance(p, Text))
        calls = [
            {"id": p.id, "type": "function",
             "function": {"name": p.name, "arguments": msgspec.json.encode(p.arguments).decode()}}
            for p in message.parts if isinstance(p, ToolCall)
        ]
        out: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            out["tool_calls"] = calls
        return [out]
    found: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": p.call_id, "content": _result_text(p)}
        for p in message.parts if isinstance(p, ToolResult)
    ]
    content = [_content(p) for p in message.parts if isinstance(p, Text | Media)]
    if content:
        plain = all(c["type"] == "text" for c in content)
        found.append({"role": "user",
                      "content": "".join(c["text"] for c in content) if plain else content})
    return found


def _content(part: Text | Media) -> dict[str, Any]:
    if isinstance(part, Text):
        return {"type": "text", "text": part.text}
    url = part.url or f"data:{part.mime};base64,{part.data}"
    return {"type": "image_url", "image_url": {"url": url}}


def _result_text(result: ToolResult) -> str:
    text = "\n".join(p.text for p in result.content if isinstance(p, Text))
    return f"Error: {text}" if result.is_error and not text.startswith("Error") else text


class StreamDecoder:
    """Chat completion chunks in, hub events out; `close()` ends the stream."""

    def __init__(self, *, model: str = "") -> None:
        self._model = model
        self._started = self._closed = False
        self._next = 0
        self._open: tuple[PartKind, int, int] | None = None  # (kind, part index, tool index)
        self._reason: FinishReason | None = None
        self._calls = 0
        self._usage = Usage()

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        if self._closed:
            return []
        if isinstance(error := chunk.get("error"), dict):
            raise UpstreamError(500, msgspec.json.encode(error).decode(),
                                message=f"upstream stream error: {error.get('message', '')}")
        events: list[Event] = []
        if not self._started:
            self._started = True
            model = chunk.get("model")
            events.append(Start(id=str(chunk.get("id") or ""),
                                model=model if isinstance(model, str) and model else self._model))
        if isinstance(usage := chunk.get("usage"), dict):
            self._usage = _usage(usage)
        match chunk.get("choices"):
            case [dict() as choice, *_]:
                if isinstance(delta := choice.get("delta"), dict):
                    events += self._delta(delta)
                if isinstance(reason := choice.get("finish_reason"), str):
                    self._reason = _FINISH.get(reason, "stop")
        return events

    def close(self) -> list[Event]:
        if self._closed:
            return []
        events: list[Event] = [] if self._started else [Start(id="", model=self._model)]
        self._closed, self._started = True, True
        events += self._close_open()
        reason = self._reason or ("tool_use" if self._calls else "stop")
        return [*events, Finish(reason=reason, usage=self._usage)]

    def _delta(self, delta: dict[str, Any]) -> list[Event]:
        events: list[Event] = []
        thought = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(thought, str) and thought:
            events += self._into("thinking") + [ThinkingDelta(index=self._index, text=thought)]
        if isinstance(text := delta.get("content"), str) and text:
            events += self._into("text") + [TextDelta(index=self._index, text=text)]
        for call in delta.get("tool_calls") or []:
            if isinstance(call, dict):
                events += self._tool(call)
        return events

    @property
    def _index(self) -> int:
        assert self._open is not None
        return self._open[1]

    def _into(
        self, kind: PartKind, tool: int = -1, tool_id: str = "", name: str = ""
    ) -> list[Event]:
        """Events that make `kind` (tool call number `tool`) the open part."""
        if self._open is not None and self._open[0] == kind and self._open[2] == tool:
            return []
        events = self._close_open()
        self._open, self._next = (kind, self._next, tool), self._next + 1
        start = PartStart(index=self._index, kind=kind, tool_id=tool_id, tool_name=name)
        return [*events, start]

    def _tool(self, call: dict[str, Any]) -> list[Event]:
        """One `tool_calls` fragment; fragments belong to the call their `index` names."""
        function = call.get("function") if isinstance(call.get("function"), dict) else {}
        assert isinstance(function, dict)
        tool = call.get("index") if isinstance(call.get("index"), int) else 0
        assert isinstance(tool, int)
        events: list[Event] = []
        if self._open is None or self._open[0] != "tool_call" or self._open[2] != tool:
            self._calls += 1
            events += self._into("tool_call", tool, str(call.get("id") or f"call_{tool}"),
                                 str(function.get("name") or ""))
        if isinstance(args := function.get("arguments"), str) and args:
            events.append(ToolArgsDelta(index=self._index, json=args))
        return events

    def _close_open(self) -> list[Event]:
        if self._open is None:
            return []
        index, self._open = self._open[1], None
        return [PartEnd(index=index)]


def _usage(usage: dict[str, Any]) -> Usage:
    def count(value: Any, key: str) -> int:
        found = value.get(key) if isinstance(value, dict) else None
        return found if isinstance(found, int) else 0

    return Usage(
        input_tokens=count(usage, "prompt_tokens"),
        output_tokens=count(usage, "completion_tokens"),
        cached_tokens=count(usage.get("prompt_tokens_details"), "cached_tokens"),
        reasoning_tokens=count(usage.get("completion_tokens_details"), "reasoning_tokens"),
    )
