"""Hub <-> an Anthropic Messages upstream (z.ai's Anthropic endpoint, Anthropic itself). Pure.

`passthrough_request` sends a body the client wrote in Anthropic's format on with only the
model replaced, so thinking blocks, signatures and cache_control arrive intact. Signatures
from such an upstream are tagged `other`: a thinking block tagged for Google is not sent here.
"""

from __future__ import annotations

from typing import Any, assert_never

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
    Family,
    FinishReason,
    Media,
    Message,
    Part,
    Reasoning,
    Signature,
    Text,
    Thinking,
    ToolCall,
    ToolChoice,
    ToolResult,
    Usage,
)
from antigravity_gateway.errors import UpstreamError

from .blocks import decode_signature

FAMILY: Family = "other"  # its signatures mean nothing to Google's models, nor theirs to it
DEFAULT_MAX_TOKENS = 8192
MIN_BUDGET = 1024
EFFORT_BUDGET = {"minimal": 1024, "low": 4096, "medium": 8192, "high": 16384}
_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_use",
    "stop_sequence": "stop_sequence",
    "refusal": "content_filter",
    "pause_turn": "stop",
}
_ERROR_STATUS = {"overloaded_error": 529, "rate_limit_error": 429, "api_error": 500,
                 "invalid_request_error": 400, "authentication_error": 401,
                 "permission_error": 403, "not_found_error": 404}
_KINDS: dict[str, PartKind] = {"text": "text", "thinking": "thinking",
                               "redacted_thinking": "thinking", "tool_use": "tool_call"}


def encode_request(req: ChatRequest, *, model: str) -> dict[str, Any]:
    """A streaming Messages request for `model`; json_schema is dropped (Messages has no such
    field)."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": req.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": [encode_message(m) for m in req.messages],
        "stream": True,
    }
    if req.system:
        body["system"] = [{"type": "text", "text": t.text} for t in req.system]
    if req.tools:
        body["tools"] = [
            {"name": t.name, "description": t.description,
             "input_schema": t.parameters or {"type": "object", "properties": {}}}
            for t in req.tools
        ]
        if req.tool_choice is not None:
            body["tool_choice"] = _tool_choice(req.tool_choice)
    for key, value in (("temperature", req.temperature), ("top_p", req.top_p),
                       ("top_k", req.top_k)):
        if value is not None:
            body[key] = value
    if req.stop:
        body["stop_sequences"] = list(req.stop)
    _add_thinking(body, req.reasoning)
    return body


def _tool_choice(choice: ToolChoice) -> dict[str, Any]:
    match choice.mode:
        case "auto":
            return {"type": "auto"}
        case "none":
            return {"type": "none"}
        case "required":
            return {"type": "any"}
        case "tool":
            return {"type": "tool", "name": choice.name}
        case _:
            assert_never(choice.mode)


def _add_thinking(body: dict[str, Any], reasoning: Reasoning | None) -> None:
    if reasoning is None:
        return
    if reasoning.effort == "none" or not reasoning.include_thoughts:
        body["thinking"] = {"type": "disabled"}
        return
    budget = reasoning.budget or EFFORT_BUDGET.get(reasoning.effort or "medium", 8192)
    budget = max(MIN_BUDGET, budget)
    body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    if body["max_tokens"] <= budget:
        body["max_tokens"] = budget + body["max_tokens"]
    body.pop("temperature", None)  # Anthropic: thinking requires the default temperature
    body.pop("top_k", None)


def encode_message(message: Message) -> dict[str, Any]:
    blocks = [b for p in message.parts if (b := _block(p)) is not None]
    return {"role": message.role, "content": blocks or [{"type": "text", "text": "."}]}


def _block(part: Part) -> dict[str, Any] | None:
    match part:
        case Text(text=text):
            return {"type": "text", "text": text} if text else None
        case Media():
            return _media(part)
        case Thinking(redacted=True, text=data):
            return {"type": "redacted_thinking", "data": data}
        case Thinking(text=text, signature=sig):
            if sig is None or sig.family != FAMILY:
                return None  # unsigned, or signed by another upstream: it would be refused
            return {"type": "thinking", "thinking": text, "signature": sig.value}
        case ToolCall(id=id_, name=name, arguments=args):
            return {"type": "tool_use", "id": id_, "name": name, "input": args}
        case ToolResult():
            return _tool_result(part)
        case _:
            assert_never(part)


def _media(media: Media) -> dict[str, Any]:
    kind = "document" if media.mime == "application/pdf" else "image"
    if media.url:
        return {"type": kind, "source": {"type": "url", "url": media.url}}
    return {"type": kind, "source": {"type": "base64", "media_type": media.mime,
                                     "data": media.data}}


def _tool_result(result: ToolResult) -> dict[str, Any]:
    content = [_block(p) for p in result.content]
    return {"type": "tool_result", "tool_use_id": result.call_id,
            "content": [c for c in content if c is not None], "is_error": result.is_error}


def passthrough_request(raw: dict[str, Any], *, model: str) -> dict[str, Any]:
    """The client's own body for `model`, streamed; our signature tags are taken off again and
    thinking blocks another upstream signed are left out (this one would refuse them)."""
    body = {**raw, "model": model, "stream": True}
    messages = raw.get("messages")
    if isinstance(messages, list):
        body["messages"] = [_untagged(m) for m in messages]
    return body


def _untagged(message: Any) -> Any:
    if not isinstance(message, dict) or not isinstance(message.get("content"), list):
        return message
    blocks = []
    for block in message["content"]:
        if isinstance(block, dict) and block.get("type") == "thinking":
            sig = decode_signature(str(block.get("signature") or ""))
            tagged = str(block.get("signature") or "").partition("#")[1]
            if sig is not None and tagged and sig.family != FAMILY:
                continue
            block = {**block, "signature": sig.value if sig else ""}
        blocks.append(block)
    return {**message, "content": blocks}


class StreamDecoder:
    """Messages SSE events (each event's JSON) in, hub events out; `close()` ends the stream."""

    def __init__(self, *, model: str = "") -> None:
        self._model = model
        self._started = self._closed = False
        self._next = 0
        self._open: int | None = None
        self._signature = ""
        self._reason: FinishReason = "stop"
        self._usage: dict[str, int] = {}

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        if self._closed:
            return []
        kind = chunk.get("type")
        if kind == "error":
            raise _error(chunk.get("error"))
        events: list[Event] = []
        if not self._started:
            events.append(self._start(chunk.get("message") if kind == "message_start" else None))
        match kind:
            case "content_block_start":
                events += self._block_start(chunk.get("content_block"))
            case "content_block_delta":
                events += self._delta(chunk.get("delta"))
            case "content_block_stop":
                events += self._block_stop()
            case "message_delta":
                self._message_delta(chunk)
        return events

    def close(self) -> list[Event]:
        if self._closed:
            return []
        events: list[Event] = [] if self._started else [self._start(None)]
        self._closed = True
        events += self._block_stop()
        return [*events, Finish(reason=self._reason, usage=_usage(self._usage))]

    def _start(self, message: Any) -> Start:
        self._started = True
        message = message if isinstance(message, dict) else {}
        self._count(message.get("usage"))
        model = message.get("model")
        return Start(id=str(message.get("id") or ""),
                     model=model if isinstance(model, str) and model else self._model)

    def _block_start(self, block: Any) -> list[Event]:
        block = block if isinstance(block, dict) else {}
        kind = _KINDS.get(str(block.get("type")))
        if kind is None:
            return []  # server tool blocks and unknown ones are skipped
        events = self._block_stop()
        self._open, self._next = self._next, self._next + 1
        redacted = block.get("type") == "redacted_thinking"
        events.append(PartStart(index=self._open, kind=kind, redacted=redacted,
                                tool_id=str(block.get("id") or ""),
                                tool_name=str(block.get("name") or "")))
        initial = block.get("data") if redacted else block.get("text") or block.get("thinking")
        if isinstance(initial, str) and initial:
            delta = ThinkingDelta if kind == "thinking" else TextDelta
            events.append(delta(index=self._open, text=initial))
        return events

    def _delta(self, delta: Any) -> list[Event]:
        if self._open is None or not isinstance(delta, dict):
            return []
        index = self._open
        match delta:
            case {"type": "text_delta", "text": str() as text}:
                return [TextDelta(index=index, text=text)]
            case {"type": "thinking_delta", "thinking": str() as text}:
                return [ThinkingDelta(index=index, text=text)]
            case {"type": "input_json_delta", "partial_json": str() as fragment}:
                return [ToolArgsDelta(index=index, json=fragment)] if fragment else []
            case {"type": "signature_delta", "signature": str() as signature}:
                self._signature += signature
        return []

    def _block_stop(self) -> list[Event]:
        if self._open is None:
            return []
        signature = Signature(value=self._signature, family=FAMILY) if self._signature else None
        index, self._open, self._signature = self._open, None, ""
        return [PartEnd(index=index, signature=signature)]

    def _message_delta(self, chunk: dict[str, Any]) -> None:
        delta = chunk.get("delta")
        if isinstance(delta, dict) and isinstance(reason := delta.get("stop_reason"), str):
            self._reason = _FINISH.get(reason, "stop")
        self._count(chunk.get("usage"))

    def _count(self, usage: Any) -> None:
        if isinstance(usage, dict):
            self._usage.update((k, v) for k, v in usage.items() if isinstance(v, int))


def _usage(counts: dict[str, int]) -> Usage:
    """Anthropic's usage (input without cache reads) as the hub counts it (cache included)."""
    cached = counts.get("cache_read_input_tokens", 0)
    created = counts.get("cache_creation_input_tokens", 0)
    return Usage(input_tokens=counts.get("input_tokens", 0) + cached + created,
                 cached_tokens=cached, output_tokens=counts.get("output_tokens", 0))


def _error(error: Any) -> UpstreamError:
    error = error if isinstance(error, dict) else {}
    kind, message = str(error.get("type") or "api_error"), str(error.get("message") or "")
    return UpstreamError(_ERROR_STATUS.get(kind, 500), message,
                         message=f"upstream stream error ({kind}): {message}")
