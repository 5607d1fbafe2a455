"""Anthropic Messages, client-facing: request -> hub; hub -> message JSON, usage, errors.

Accepted but ignored: cache_control (anywhere), context_management, service_tier, container,
mcp_servers, betas and any other top-level field. Streaming output lives in stream.py.
"""

from __future__ import annotations

from typing import Any, assert_never

import msgspec

from antigravity_gateway.core.messages import (
    ChatRequest,
    ChatResponse,
    Effort,
    FinishReason,
    Grounding,
    Media,
    Reasoning,
    Text,
    Thinking,
    ToolCall,
    Usage,
)
from antigravity_gateway.errors import GatewayError, InvalidRequest, UpstreamError, kind_of
from antigravity_gateway.protocols import fields
from antigravity_gateway.protocols.markdown import markdown_image
from antigravity_gateway.protocols.search import wants_search

from . import search, wire
from .blocks import encode_signature
from .conversation import decode_messages, decode_system, decode_tool_choice, decode_tools

STOP_REASONS: dict[FinishReason, wire.StopReason] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_use": "tool_use",
    "stop_sequence": "stop_sequence",
    "content_filter": "refusal",
    "error": "end_turn",
}
_EFFORTS: dict[str, Effort] = {
    "minimal": "minimal",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "high",
}
_ERROR_TYPES = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "payload_too_large": "request_too_large",
    "rate_limit": "rate_limit_error",
    "overloaded": "overloaded_error",
}
# An upstream 401/403 (after every account was tried) is ours to fix, not the client's key:
# answered as 503, so Claude Code does not drop to its login screen (docs/upstream.md §10.4).
_UPSTREAM_AUTH = {401: "authentication_error", 403: "permission_error"}


def decode_request(body: Any, *, counting: bool = False) -> ChatRequest:
    """A `/v1/messages` body (`counting`: a count_tokens body, without max_tokens)."""
    if not isinstance(body, dict):
        raise InvalidRequest(f"request body must be a JSON object, got {fields.kind(body)}")
    model = fields.string(body.get("model"), "model", nonempty=True)
    max_tokens = fields.opt_int(body, "max_tokens", minimum=1)
    if max_tokens is None and not counting:
        raise InvalidRequest("is required", path="max_tokens")
    system, messages = decode_messages(body.get("messages"))
    tools = decode_tools(body.get("tools"))
    return ChatRequest(
        model=model,
        messages=messages,
        system=(*decode_system(body.get("system")), *system),
        tools=tools,
        tool_choice=decode_tool_choice(body.get("tool_choice"), tools),
        max_tokens=max_tokens,
        temperature=fields.opt_number(body, "temperature", low=0, high=1),
        top_p=fields.opt_number(body, "top_p", low=0, high=1),
        top_k=fields.opt_int(body, "top_k") or None,
        stop=_stop_sequences(body.get("stop_sequences")),
        reasoning=_reasoning(body.get("thinking"), body.get("output_config")),
        stream=bool(fields.opt_bool(body, "stream")),
        session_key=_session_key(body.get("metadata")),
        web_search=wants_search(body.get("tools")),
    )


def _stop_sequences(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    items = fields.array(value, "stop_sequences")
    return tuple(
        s for i, s in enumerate(items) if fields.string(s, fields.at("stop_sequences", i))
    )


def _reasoning(thinking: object, output_config: object) -> Reasoning | None:
    effort = _effort(output_config)
    if thinking is None:
        return None if effort is None else Reasoning(effort=effort)
    config = fields.obj(thinking, "thinking")
    match config.get("type"):
        case "enabled":
            budget = fields.opt_int(config, "budget_tokens", "thinking")
            fields.required(budget, "thinking.budget_tokens")
            return Reasoning(effort=effort, budget=budget)
        case "adaptive":
            return Reasoning(effort=effort)
        case "disabled":
            return Reasoning(effort="none", include_thoughts=False)
    raise InvalidRequest('must be "enabled", "adaptive" or "disabled"', path="thinking.type")


def _effort(output_config: object) -> Effort | None:
    if output_config is None:
        return None
    config = fields.obj(output_config, "output_config")
    effort = fields.opt_string(config, "effort", "output_config")
    if effort is None or effort in _EFFORTS:
        return None if effort is None else _EFFORTS[effort]
    raise InvalidRequest(f"must be one of {', '.join(_EFFORTS)}", path="output_config.effort")


def _session_key(metadata: object) -> str:
    """`metadata.user_id`; Claude Code sends a JSON string whose `session_id` names the chat."""
    if metadata is None:
        return ""
    user_id = fields.opt_string(fields.obj(metadata, "metadata"), "user_id", "metadata") or ""
    if user_id.startswith("{"):
        try:
            parsed = msgspec.json.decode(user_id)
        except msgspec.DecodeError:
            return user_id
        if isinstance(parsed, dict) and isinstance(session := parsed.get("session_id"), str):
            return session or user_id
    return user_id


def encode_response(resp: ChatResponse, *, model: str) -> wire.Message:
    """A `message`; `model` is the name the client asked for. A grounded answer opens with
    the web search blocks and cites its sources on the text (search.py)."""
    usage = encode_usage(resp.usage)
    content: list[Any] = [encode_block(p) for p in resp.parts]
    if resp.grounding is not None:
        content = _grounded(resp, resp.grounding)
        usage["server_tool_use"] = {"web_search_requests": max(1, len(resp.grounding.queries))}
    return {
        "id": resp.id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": STOP_REASONS[resp.finish_reason],
        "stop_sequence": None,
        "usage": usage,
    }


def _grounded(resp: ChatResponse, grounding: Grounding) -> list[Any]:
    content: list[Any] = search.search_blocks(grounding, resp.id)
    offset = 0
    for part in resp.parts:
        if isinstance(part, Text):
            content += search.cited_text_blocks(part.text, offset, grounding)
            offset += len(part.text)
        else:
            content.append(encode_block(part))
    return content


def encode_block(part: Text | Thinking | ToolCall | Media) -> wire.ContentBlock:
    """A text signature has no place in Anthropic's format and is dropped (Gemini does not
    need it back); a tool call's is kept by the gateway's signature cache."""
    match part:
        case Text(text=text):
            return {"type": "text", "text": text}
        case Thinking(redacted=True, text=data):
            return {"type": "redacted_thinking", "data": data}
        case Thinking(text=text, signature=sig):
            signature = "" if sig is None else encode_signature(sig)
            return {"type": "thinking", "thinking": text, "signature": signature}
        case ToolCall(id=id_, name=name, arguments=args):
            return {"type": "tool_use", "id": id_, "name": name, "input": args}
        case Media():
            return {"type": "text", "text": markdown_image(part)}
        case _:
            assert_never(part)


def encode_usage(usage: Usage) -> wire.Usage:
    return {
        "input_tokens": max(0, usage.input_tokens - usage.cached_tokens),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": usage.cached_tokens,
    }


def encode_error(err: GatewayError) -> tuple[int, wire.ErrorBody]:
    status, kind = err.http_status, _ERROR_TYPES.get(kind_of(err), "api_error")
    if isinstance(err, UpstreamError) and status in _UPSTREAM_AUTH:
        status, kind = 503, _UPSTREAM_AUTH[status]
    return status, {"type": "error", "error": {"type": kind, "message": err.message}}
