"""OpenAI Chat Completions, client-facing: request -> hub; hub -> response, SSE chunks, errors.

Accepted but ignored: frequency_penalty, presence_penalty, logit_bias, logprobs, top_logprobs,
seed, service_tier, store, metadata, modalities, audio, prediction, parallel_tool_calls,
verbosity, prompt_cache_key, safety_identifier, functions/function_call (legacy).
"""

from __future__ import annotations

from typing import Any

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
    ChatRequest,
    ChatResponse,
    FinishReason,
    Media,
    Reasoning,
    Text,
    Thinking,
    ToolCall,
    Usage,
)
from antigravity_gateway.core.sse import encode_frame
from antigravity_gateway.errors import GatewayError, InvalidRequest, UnknownModel, kind_of
from antigravity_gateway.protocols import fields
from antigravity_gateway.protocols.markdown import markdown_image
from antigravity_gateway.protocols.search import chat_annotations, wants_search

from . import wire
from .conversation import decode_messages, decode_tool_choice, decode_tools

_EFFORTS = {
    "none": Reasoning(effort="none"),
    "minimal": Reasoning(effort="minimal"),
    "low": Reasoning(effort="low"),
    "medium": Reasoning(effort="medium"),
    "high": Reasoning(effort="high"),
    "xhigh": Reasoning(effort="high"),
}
_FINISH: dict[FinishReason, wire.FinishReason] = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "error": "stop",
}
_ERROR_TYPES = {
    "invalid_request": "invalid_request_error",
    "payload_too_large": "invalid_request_error",
    "not_implemented": "not_implemented_error",  # not the client's fault
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "rate_limit": "rate_limit_error",
    "overloaded": "server_error",
    "timeout": "server_error",
}
_ERROR_CODES = {
    "authentication": "invalid_api_key",
    "rate_limit": "rate_limit_exceeded",
    "payload_too_large": "request_too_large",
    "not_implemented": "not_implemented",
    "overloaded": "overloaded",
    "timeout": "timeout",
}
_DONE = encode_frame(b"[DONE]")


def decode_request(body: Any) -> ChatRequest:
    """A `/v1/chat/completions` body -> ChatRequest; anything malformed -> InvalidRequest(path).

    http(s) image URLs stay URLs here: server/media.py downloads them. web_search_options or a
    web_search tool turns on search; the sources come back as url_citation annotations."""
    if not isinstance(body, dict):
        raise InvalidRequest(f"request body must be a JSON object, got {fields.kind(body)}")
    model = fields.string(body.get("model"), "model", nonempty=True)
    if (n := fields.opt_int(body, "n", minimum=1)) is not None and n > 1:
        raise InvalidRequest("n > 1 is not supported", path="n")
    wants_usage(body)  # validates stream_options
    system, messages = decode_messages(body.get("messages"))
    tools = decode_tools(body.get("tools"))
    limit = fields.opt_int(body, "max_tokens", minimum=1)
    return ChatRequest(
        model=model,
        messages=messages,
        system=system,
        tools=tools,
        tool_choice=decode_tool_choice(body.get("tool_choice"), tools),
        max_tokens=fields.opt_int(body, "max_completion_tokens", minimum=1) or limit,
        temperature=fields.opt_number(body, "temperature", low=0, high=2),
        top_p=fields.opt_number(body, "top_p", low=0, high=1),
        stop=decode_stop(body.get("stop")),
        reasoning=decode_effort(body.get("reasoning_effort"), "reasoning_effort"),
        json_schema=_json_schema(body.get("response_format")),
        stream=bool(fields.opt_bool(body, "stream")),
        session_key=fields.opt_string(body, "user") or "",
        web_search=body.get("web_search_options") is not None or wants_search(body.get("tools")),
    )


def wants_usage(body: dict[str, Any]) -> bool:
    """`stream_options.include_usage`: whether a stream ends with a usage chunk."""
    options = body.get("stream_options")
    if options is None:
        return False
    options = fields.obj(options, "stream_options")
    return bool(fields.opt_bool(options, "include_usage", "stream_options"))


def decode_stop(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    stops = [
        fields.string(s, fields.at("stop", i)) for i, s in enumerate(fields.array(value, "stop"))
    ]
    if len(stops) > 4:
        raise InvalidRequest("at most 4 stop sequences are allowed", path="stop")
    return tuple(s for s in stops if s)


def decode_effort(value: object, path: str) -> Reasoning | None:
    """OpenAI's reasoning effort names -> the hub's (xhigh is the hub's high)."""
    if value is None:
        return None
    if isinstance(value, str) and value in _EFFORTS:
        return _EFFORTS[value]
    raise InvalidRequest(f"must be one of {', '.join(_EFFORTS)}", path=path)


def _json_schema(value: object) -> dict[str, Any] | None:
    """`response_format` -> the hub's json_schema ({} for json_object, None for text)."""
    match value:
        case None | {"type": "text"}:
            return None
        case {"type": "json_object"}:
            return {}
        case {"type": "json_schema", "json_schema": dict() as spec}:
            schema = spec.get("schema")
            path = "response_format.json_schema.schema"
            return {} if schema is None else fields.obj(schema, path)
        case {"type": "json_schema"}:
            raise InvalidRequest("must be an object", path="response_format.json_schema")
        case dict():
            raise InvalidRequest(
                'must be "text", "json_object" or "json_schema"', path="response_format.type"
            )
    raise InvalidRequest(f"must be an object, got {fields.kind(value)}", path="response_format")


def encode_response(resp: ChatResponse, *, model: str, created: int) -> wire.ChatCompletion:
    """A `chat.completion`; `model` is the name the client asked for."""
    calls = [_tool_call(p) for p in resp.parts if isinstance(p, ToolCall)]
    text = "".join(visible_text(p) for p in resp.parts if isinstance(p, Text | Media))
    message: wire.ResponseMessage = {
        "role": "assistant",
        "content": text or (None if calls else ""),
    }
    if reasoning := "".join(_reasoning_text(p) for p in resp.parts if isinstance(p, Thinking)):
        message["reasoning_content"] = reasoning
    if calls:
        message["tool_calls"] = calls
    if annotations := chat_annotations(resp.grounding):
        message["annotations"] = annotations
    return {
        "id": resp.id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _FINISH[resp.finish_reason],
            }
        ],
        "usage": encode_usage(resp.usage),
    }


def encode_usage(usage: Usage) -> wire.UsageWire:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
    }


def encode_error(err: GatewayError) -> tuple[int, wire.ErrorBody]:
    """OpenAI's error envelope; `param` names the offending JSON path of an InvalidRequest."""
    kind = kind_of(err)
    code = "model_not_found" if isinstance(err, UnknownModel) else _ERROR_CODES.get(kind)
    param = (err.path or None) if isinstance(err, InvalidRequest) else None
    detail: wire.ErrorDetail = {
        "message": err.message,
        "type": _ERROR_TYPES.get(kind, "api_error"),
        "code": code,
        "param": param,
    }
    return err.http_status, {"error": detail}


def _tool_call(call: ToolCall) -> wire.ToolCallWire:
    arguments = msgspec.json.encode(call.arguments).decode()
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": arguments},
    }


def visible_text(part: Text | Media) -> str:
    """Text as is; an image (from image models) as a markdown image, as the reference does."""
    return part.text if isinstance(part, Text) else markdown_image(part)


def _reasoning_text(part: Thinking) -> str:
    return "" if part.redacted else part.text  # redacted thinking is opaque data, not prose


def error_frames(err: GatewayError) -> list[bytes]:
    """An in-stream error: the error envelope as a chunk, then `[DONE]`."""
    return [encode_frame(msgspec.json.encode(encode_error(err)[1])), _DONE]


def closing_frames(head: dict[str, Any], usage: Usage | None) -> list[bytes]:
    """The end of a stream: a usage chunk (`choices: []`) when asked for, then `[DONE]`."""
    if usage is None:
        return [_DONE]
    chunk = {**head, "choices": [], "usage": encode_usage(usage)}
    return [encode_frame(msgspec.json.encode(chunk)), _DONE]


class ChunkStream:
    """What OpenAI's chunk streams (chat and legacy completions) share: the fields every chunk
    repeats, a usage chunk and `[DONE]` at the end, and an error chunk on failure."""

    def __init__(self, *, id: str, object: str, created: int, model: str, usage: bool) -> None:
        self._head = {"id": id, "object": object, "created": created, "model": model}
        self._include_usage = usage
        self._done = False

    def fail(self, err: GatewayError) -> list[bytes]:
        """An error chunk in OpenAI's shape, then `[DONE]` (the stream has already begun)."""
        if self._done:
            return []
        self._done = True
        return error_frames(err)

    def _end(self, last: bytes, usage: Usage) -> list[bytes]:
        self._done = True
        return [last, *closing_frames(self._head, usage if self._include_usage else None)]

    def _choice(self, choice: dict[str, Any]) -> bytes:
        return encode_frame(msgspec.json.encode({**self._head, "choices": [choice]}))


class StreamEncoder(ChunkStream):
    """Hub events -> `chat.completion.chunk` SSE frames, ending with `data: [DONE]`.

    A role chunk first; text as `content`, thinking as `reasoning_content`, each tool call as a
    `tool_calls` entry with its own `index` (id, type, name and "" arguments first, then argument
    fragments); a finish chunk; a usage chunk with `choices: []` when `include_usage`.
    """

    def __init__(self, *, id: str, model: str, created: int, include_usage: bool) -> None:
        kind = "chat.completion.chunk"
        super().__init__(id=id, object=kind, created=created, model=model, usage=include_usage)
        self._tools: dict[int, int] = {}  # part index -> tool_calls index
        self._redacted: set[int] = set()
        self._with_args: set[int] = set()  # tool call parts that streamed arguments

    def feed(self, event: Event) -> list[bytes]:
        if self._done:
            return []
        match event:
            case Start():
                return [self._chunk({"role": "assistant", "content": ""})]
            case PartStart(kind="tool_call", index=index):
                position = self._tools[index] = len(self._tools)
                function = {"name": event.tool_name, "arguments": ""}
                call = {
                    "index": position,
                    "id": event.tool_id,
                    "type": "function",
                    "function": function,
                }
                return [self._chunk({"tool_calls": [call]})]
            case PartStart(kind="media", media=Media() as media):
                return [self._chunk({"content": visible_text(media)})]
            case PartStart(redacted=True, index=index):
                self._redacted.add(index)
            case TextDelta(text=text) if text:
                return [self._chunk({"content": text})]
            case ThinkingDelta(text=text, index=index) if text and index not in self._redacted:
                return [self._chunk({"reasoning_content": text})]
            case ToolArgsDelta(json=fragment, index=index) if fragment:
                self._with_args.add(index)
                return [self._arguments(index, fragment)]
            case PartEnd(index=index) if index in self._tools and index not in self._with_args:
                return [self._arguments(index, "{}")]  # a call that streamed no arguments
            case Finish():
                return self._finish(event)
        return []

    def _finish(self, finish: Finish) -> list[bytes]:
        last = self._chunk({}, _FINISH[finish.reason])
        if annotations := chat_annotations(finish.grounding):
            return [self._chunk({"annotations": annotations}), *self._end(last, finish.usage)]
        return self._end(last, finish.usage)

    def _arguments(self, index: int, fragment: str) -> bytes:
        call = {"index": self._tools[index], "function": {"arguments": fragment}}
        return self._chunk({"tool_calls": [call]})

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self._choice(choice)
