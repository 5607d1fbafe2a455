"""Hub response -> Responses `output` items and the response object (shared by JSON and SSE).

One output item per hub part, so an item's `output_index` is its part's index; a grounded answer
adds a `web_search_call` item after them. Item ids derive from the response id, so the stream
and the final object agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, assert_never

import msgspec

from antigravity_gateway.core.messages import (
    ChatResponse,
    FinishReason,
    Grounding,
    Media,
    Text,
    Thinking,
    ToolCall,
    Usage,
)
from antigravity_gateway.protocols.search import url_citations

from . import wire
from .inbound import Context
from .sealed import seal

ResponsePart = Text | Thinking | ToolCall | Media
_INCOMPLETE: dict[FinishReason, wire.IncompleteDetails] = {
    "length": {"reason": "max_output_tokens"},
    "content_filter": {"reason": "content_filter"},
}


def item_id(ctx: Context, prefix: str, index: int) -> str:
    return f"{prefix}_{ctx.id.removeprefix('resp_')}_{index}"


def encode_item(ctx: Context, index: int, part: ResponsePart) -> wire.OutputItem:
    """The finished output item for part `index`."""
    match part:
        case Text():
            return message_item(ctx, index, part.text, "completed")
        case Media():
            return image_item(ctx, index, part, "completed")
        case Thinking():
            return reasoning_item(ctx, index, part)
        case ToolCall():
            return call_item(ctx, index, part, "completed")
        case _:
            assert_never(part)


def message_item(
    ctx: Context, index: int, text: str | None, status: wire.ItemStatus
) -> wire.MessageItem:
    """A message; `text=None` leaves its content empty (the stream's opening form)."""
    content: list[wire.OutputText] = [] if text is None else [output_text(text)]
    return {
        "id": item_id(ctx, "msg", index),
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": content,
    }


def image_item(
    ctx: Context, index: int, media: Media | None, status: wire.ItemStatus
) -> wire.ImageItem:
    """A generated image (base64 in `result`; an image known only by URL gives the URL)."""
    result = None if media is None else (media.data or media.url)
    return {"id": item_id(ctx, "ig", index), "type": "image_generation_call", "status": status,
            "result": result}  # fmt: skip


def search_item(ctx: Context, index: int, grounding: Grounding) -> wire.WebSearchItem:
    action = {
        "type": "search",
        "query": " ".join(grounding.queries),
        "sources": [{"type": "url", "url": s.url} for s in grounding.sources if s.url],
    }
    return {"id": item_id(ctx, "ws", index), "type": "web_search_call", "status": "completed",
            "action": action}  # fmt: skip


def output_text(text: str) -> wire.OutputText:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def reasoning_item(ctx: Context, index: int, part: Thinking | None) -> wire.ReasoningItem:
    """A reasoning item: summary text only when asked for, the signed thinking sealed in
    `encrypted_content` when `include` asks; `part=None` is the stream's opening form."""
    item: wire.ReasoningItem = {"id": item_id(ctx, "rs", index), "type": "reasoning", "summary": []}
    if part is None:
        return item
    if ctx.summaries and part.text and not part.redacted:
        item["summary"] = [{"type": "summary_text", "text": part.text}]
    if ctx.include_encrypted and (sealed := seal(part)) is not None:
        item["encrypted_content"] = sealed
    return item


def call_item(
    ctx: Context, index: int, call: ToolCall, status: wire.ItemStatus, *, empty: bool = False
) -> wire.FunctionCallItem | wire.CustomToolCallItem:
    """A function or custom tool call; `empty` leaves arguments/input blank (opening form)."""
    namespace, name = ctx.names.split(call.name)
    item: wire.FunctionCallItem | wire.CustomToolCallItem
    if call.name in ctx.names.custom:
        item = {
            "id": item_id(ctx, "ctc", index),
            "type": "custom_tool_call",
            "status": status,
            "call_id": call.id,
            "name": name,
            "input": "" if empty else custom_input(call.arguments),
        }
    else:
        item = {
            "id": item_id(ctx, "fc", index),
            "type": "function_call",
            "status": status,
            "call_id": call.id,
            "name": name,
            "arguments": "" if empty else msgspec.json.encode(call.arguments).decode(),
        }
    if namespace:
        item["namespace"] = namespace
    return item


def custom_input(arguments: dict[str, Any]) -> str:
    """A custom tool's text: the `input` argument (or, should the model stray, all of them)."""
    value = arguments.get("input")
    return value if isinstance(value, str) else msgspec.json.encode(arguments).decode()


def encode_response(resp: ChatResponse, ctx: Context) -> dict[str, Any]:
    """The complete (or incomplete) response object of a finished answer."""
    output = [encode_item(ctx, i, p) for i, p in enumerate(resp.parts)]
    if resp.grounding is not None:
        _annotate(output, resp)
        output.append(search_item(ctx, len(output), resp.grounding))
    incomplete = _INCOMPLETE.get(resp.finish_reason)
    status: wire.Status = "incomplete" if incomplete else "completed"
    return response_object(ctx, status, output, usage=resp.usage, incomplete=incomplete)


def _annotate(output: list[wire.OutputItem], resp: ChatResponse) -> None:
    """url_citation annotations on each message, at offsets within its own text."""
    citations, offset = url_citations(resp.grounding), 0
    for item, part in zip(output, resp.parts, strict=True):
        if item["type"] != "message" or not isinstance(part, Text):
            continue
        end = offset + len(part.text)
        item["content"][0]["annotations"] = [
            {**c, "start_index": c["start_index"] - offset, "end_index": c["end_index"] - offset}
            for c in citations
            if offset <= c["start_index"] and c["end_index"] <= end
        ]
        offset = end


def response_object(
    ctx: Context,
    status: wire.Status,
    output: Sequence[wire.OutputItem],
    *,
    usage: Usage | None = None,
    incomplete: wire.IncompleteDetails | None = None,
    error: wire.ResponseError | None = None,
) -> dict[str, Any]:
    body: wire.ResponseObject = {
        "id": ctx.id,
        "object": "response",
        "created_at": ctx.created_at,
        "status": status,
        "error": error,
        "incomplete_details": incomplete,
        "model": ctx.model,
        "output": list(output),
        "usage": None if usage is None else encode_usage(usage),
    }
    return {**body, **ctx.echo}  # the echoed settings never share a key with the body


def encode_usage(usage: Usage) -> wire.UsageWire:
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.total_tokens,
    }
