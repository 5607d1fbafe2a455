"""Hub responses and events -> a Gemini client's `GenerateContentResponse` bodies and chunks.

Signatures go back verbatim as `thoughtSignature`; function calls always carry their id (echoed
back, it pairs results and restores signatures). Framing: SSE, or one JSON array written as it
streams. Errors: Google's envelope; an upstream error already in it is passed on as it came.
"""

from __future__ import annotations

from typing import Any, Literal, assert_never

import msgspec

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
from antigravity_gateway.core.messages import (
    ChatResponse,
    FinishReason,
    Media,
    Text,
    Thinking,
    ToolCall,
    Usage,
)
from antigravity_gateway.core.sse import encode_frame
from antigravity_gateway.errors import GatewayError, InvalidRequest, UpstreamError

from . import grounding, wire
from .contents import encode_media

Framing = Literal["sse", "array"]

FINISH: dict[FinishReason, str] = {
    "stop": "STOP",
    "stop_sequence": "STOP",
    "tool_use": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "error": "OTHER",
}
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "INVALID_ARGUMENT",
    408: "DEADLINE_EXCEEDED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def encode_error(err: GatewayError) -> tuple[int, dict[str, Any]]:
    """`{"error": {code, message, status}}`; a bad field is also named in BadRequest details."""
    status = err.http_status
    if isinstance(err, UpstreamError) and (upstream := _google_error(err.body)):
        return status, {"error": upstream}
    name = _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    error: dict[str, Any] = {"code": status, "message": err.message, "status": name}
    if isinstance(err, InvalidRequest) and err.path:
        violation = {"field": err.path, "description": err.message}
        error["details"] = [{"@type": _BAD_REQUEST, "fieldViolations": [violation]}]
    return status, {"error": error}


def _google_error(body: str) -> dict[str, Any] | None:
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    if isinstance(data, list) and len(data) == 1:  # the Vertex variant wraps it in an array
        data = data[0]
    match data:
        case {"error": {"code": int(), "message": str(), "status": str()} as error}:
            return dict(error)
    return None


def encode_response(
    resp: ChatResponse, *, model: str = "", thoughts: bool = True
) -> wire.GenerateContentResponse:
    """The whole answer as one GenerateContentResponse; `model` is used when upstream named none.
    `thoughts=False` (the client did not ask with includeThoughts) leaves thinking out."""
    parts = [_part(p) for p in resp.parts if thoughts or not isinstance(p, Thinking)]
    candidate: wire.Candidate = {
        "content": {"role": "model", "parts": parts},
        "finishReason": FINISH[resp.finish_reason],
        "index": 0,
    }
    if resp.grounding is not None:
        candidate["groundingMetadata"] = grounding.encode(resp.grounding, resp.text)
    return {
        "candidates": [candidate],
        "usageMetadata": encode_usage(resp.usage),
        "modelVersion": resp.model or model,
        "responseId": resp.id,
    }


def encode_usage(usage: Usage) -> wire.UsageMetadata:
    meta: wire.UsageMetadata = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - usage.reasoning_tokens,
        "totalTokenCount": usage.total_tokens,
    }
    if usage.reasoning_tokens:
        meta["thoughtsTokenCount"] = usage.reasoning_tokens
    if usage.cached_tokens:
        meta["cachedContentTokenCount"] = usage.cached_tokens
    return meta


def _part(part: Text | Thinking | ToolCall | Media) -> wire.Part:
    match part:
        case Text(text=text, signature=sig):
            out: wire.Part = {"text": text}
        case Thinking(text=text, signature=sig, redacted=redacted):
            out = {"text": "" if redacted else text, "thought": True}
        case ToolCall(id=id_, name=name, arguments=args, signature=sig):
            call: wire.FunctionCall = {"name": name, "args": args}
            if id_:
                call["id"] = id_
            out = {"functionCall": call}
        case Media():
            return (encode_media(part) or [{"text": ""}])[0]
        case _:
            assert_never(part)
    if sig is not None:
        out["thoughtSignature"] = sig.value
    return out


def _arguments(raw: str) -> dict[str, Any]:
    """A streamed call's arguments; Gemini's functionCall.args must be a JSON object."""
    try:
        args = msgspec.json.decode(raw) if raw.strip() else {}
    except msgspec.DecodeError:
        args = None
    if not isinstance(args, dict):
        raise UpstreamError(
            502, raw, message="the upstream sent tool arguments that are not an object"
        )
    return args


class StreamEncoder:
    """Hub events -> GenerateContentResponse chunks, framed as SSE or as one JSON array."""

    def __init__(self, *, framing: Framing, model: str = "", thoughts: bool = True) -> None:
        self._framing = framing
        self._thoughts = thoughts  # False: thinking is left out, as in encode_response
        self._head: dict[str, Any] = {"modelVersion": model, "responseId": ""}
        self._kinds: dict[int, PartStart] = {}
        self._args: dict[int, list[str]] = {}
        self._pending: list[wire.Part] = []  # signature parts waiting for the next chunk
        self._text: list[str] = []  # the answer's text, for a rebuilt groundingMetadata
        self._opened = self._done = False

    def feed(self, event: Event) -> list[bytes]:
        if self._done:
            return []
        match event:
            case Start(id=id_, model=model):
                self._head["responseId"] = id_
                self._head["modelVersion"] = model or self._head["modelVersion"]
            case PartStart(index=index):
                self._kinds[index] = event
                if event.kind == "tool_call":
                    self._args[index] = []
                if event.media is not None:
                    return self._chunk([_part(event.media)])
            case TextDelta(text=text) if text:
                self._text.append(text)
                return self._chunk([{"text": text}])
            case ThinkingDelta(text=text, index=index) if text and self._thoughts:
                if not self._kinds[index].redacted:
                    return self._chunk([{"text": text, "thought": True}])
            case ToolArgsDelta(index=index, json=fragment):
                self._args[index].append(fragment)
            case PartEnd():
                return self._end(event)
            case Finish():
                return self._finish(event)
        return []

    def fail(self, err: GatewayError) -> list[bytes]:
        """The error envelope as the stream's last element (the stream has already begun)."""
        if self._done:
            return []
        self._done = True
        return [self._frame(encode_error(err)[1], last=True)]

    def _end(self, end: PartEnd) -> list[bytes]:
        """A function call goes out whole; a part's closing signature waits for the next chunk."""
        start = self._kinds.pop(end.index)
        if start.kind == "tool_call":
            args = _arguments("".join(self._args.pop(end.index)))
            call = ToolCall(id=start.tool_id, name=start.tool_name, arguments=args)
            part = _part(call)
            if end.signature is not None:
                part["thoughtSignature"] = end.signature.value
            return self._chunk([part])
        if end.signature is not None and (
            start.kind == "text" or (start.kind == "thinking" and self._thoughts)
        ):
            signed: wire.Part = {"text": "", "thoughtSignature": end.signature.value}
            if start.kind == "thinking":
                signed["thought"] = True
            self._pending.append(signed)
        return []

    def _finish(self, finish: Finish) -> list[bytes]:
        """The last chunk always has finishReason, usage and a part: Gemini CLI retries a stream
        without finishReason, and google-genai's chat drops a turn on a part-less chunk."""
        self._done = True
        parts: list[wire.Part] = self._pending or [{"text": ""}]
        self._pending = []
        chunk = self._body(parts)
        chunk["candidates"][0]["finishReason"] = FINISH[finish.reason]
        chunk["usageMetadata"] = encode_usage(finish.usage)
        if finish.grounding is not None:
            meta = grounding.encode(finish.grounding, "".join(self._text))
            chunk["candidates"][0]["groundingMetadata"] = meta
        return [self._frame(chunk, last=True)]

    def _chunk(self, parts: list[wire.Part]) -> list[bytes]:
        parts, self._pending = [*self._pending, *parts], []
        return [self._frame(self._body(parts), last=False)]

    def _body(self, parts: list[wire.Part]) -> dict[str, Any]:
        candidate = {"content": {"role": "model", "parts": parts}, "index": 0}
        return {"candidates": [candidate], **self._head}

    def _frame(self, body: Any, *, last: bool) -> bytes:
        data = msgspec.json.encode(body)
        if self._framing == "sse":
            return encode_frame(data)
        head = b",\n" if self._opened else b"["
        self._opened = True
        return head + data + (b"]" if last else b"")
