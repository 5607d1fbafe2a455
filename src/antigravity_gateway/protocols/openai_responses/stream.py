"""Hub events -> the Responses SSE family, each frame `event: <type>` with a `sequence_number`.

response.created, response.in_progress; per part output_item.added, its content and delta
events, output_item.done; then response.completed (or response.incomplete, or response.failed
from `fail`). No `[DONE]`: the terminal event ends it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from antigravity_gateway.core.events import (
    Assembler,
    Event,
    Finish,
    PartEnd,
    PartStart,
    Start,
    TextDelta,
    ThinkingDelta,
    ToolArgsDelta,
)
from antigravity_gateway.core.messages import ChatResponse, ToolCall
from antigravity_gateway.core.sse import encode_frame
from antigravity_gateway.errors import GatewayError, kind_of

from . import output, wire
from .inbound import Context

_PREFIXES = {"text": "msg", "media": "ig", "thinking": "rs", "tool_call": "fc"}
_FAILURE_CODES = {"rate_limit": "rate_limit_exceeded", "invalid_request": "invalid_prompt"}


class StreamEncoder:
    """After a Finish, `response` holds the assembled answer (for the response store)."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._seq = 0
        self._asm = Assembler()
        self._open: PartStart | None = None
        self._text: list[str] = []  # what the open part has streamed so far
        self._summary_open = False
        self._started = self._done = False
        self.response: ChatResponse | None = None

    def feed(self, event: Event) -> list[bytes]:
        if self._done:
            return []
        self._asm.feed(event)
        match event:
            case Start():
                self._started = True
                return self._lifecycle("response.created") + self._lifecycle("response.in_progress")
            case PartStart():
                self._open, self._text, self._summary_open = event, [], False
                return self._added(event)
            case TextDelta(text=text) if text:
                return self._delta("response.output_text.delta", text, content_index=0)
            case ThinkingDelta(text=text) if text and self._ctx.summaries and not self._redacted:
                return self._summary_delta(text)
            case ToolArgsDelta(json=fragment) if fragment:
                if self._custom:
                    self._text.append(fragment)  # the input is known only once the JSON is whole
                    return []
                return self._delta("response.function_call_arguments.delta", fragment)
            case PartEnd():
                return self._closed()
            case Finish():
                return self._finish()
        return []

    def fail(self, err: GatewayError) -> list[bytes]:
        """`response.failed` carrying the items finished so far."""
        if self._done:
            return []
        self._done = True
        frames = [] if self._started else self._lifecycle("response.created")
        finished = [output.encode_item(self._ctx, i, p) for i, p in enumerate(self._asm.parts)]
        code = _FAILURE_CODES.get(kind_of(err), "server_error")
        body = output.response_object(
            self._ctx, "failed", finished, error={"code": code, "message": err.message}
        )
        return [*frames, self._frame("response.failed", response=body)]

    @property
    def _redacted(self) -> bool:
        return self._open is not None and self._open.redacted

    @property
    def _custom(self) -> bool:
        return self._open is not None and self._open.tool_name in self._ctx.names.custom

    def _added(self, start: PartStart) -> list[bytes]:
        ctx, index = self._ctx, start.index
        item: wire.OutputItem
        if start.kind == "thinking":
            item = output.reasoning_item(ctx, index, None)
        elif start.kind == "tool_call":
            call = ToolCall(id=start.tool_id, name=start.tool_name, arguments={})
            item = output.call_item(ctx, index, call, "in_progress", empty=True)
        elif start.kind == "media":
            item = output.image_item(ctx, index, None, "in_progress")
        else:
            item = output.message_item(ctx, index, None, "in_progress")
        frames = [self._frame("response.output_item.added", output_index=index, item=item)]
        if start.kind == "text":
            frames.append(self._part_event("response.content_part.added", ""))
        return frames

    def _summary_delta(self, text: str) -> list[bytes]:
        frames = []
        if not self._summary_open:
            self._summary_open = True
            part = {"type": "summary_text", "text": ""}
            frames.append(self._item_event("response.reasoning_summary_part.added", part=part))
        return frames + self._delta("response.reasoning_summary_text.delta", text, summary_index=0)

    def _closed(self) -> list[bytes]:
        opened, text = self._open, "".join(self._text)
        assert opened is not None
        item = output.encode_item(self._ctx, opened.index, self._asm.parts[opened.index])
        frames = self._content_done(opened, item, text)
        done = self._frame("response.output_item.done", output_index=opened.index, item=item)
        frames.append(done)
        self._open = None
        return frames

    def _content_done(self, opened: PartStart, item: wire.OutputItem, text: str) -> list[bytes]:
        """The `.done` events that precede output_item.done, by kind of item."""
        if opened.kind == "text":
            done = self._item_event("response.output_text.done", content_index=0, text=text)
            return [done, self._part_event("response.content_part.done", text)]
        if self._summary_open:
            summary = {"type": "summary_text", "text": text}
            text_done = "response.reasoning_summary_text.done"
            part_done = "response.reasoning_summary_part.done"
            return [
                self._item_event(text_done, summary_index=0, text=text),
                self._item_event(part_done, summary_index=0, part=summary),
            ]
        if item["type"] == "custom_tool_call":
            given = item["input"]
            frames = self._delta("response.custom_tool_call_input.delta", given)
            return [*frames, self._item_event("response.custom_tool_call_input.done", input=given)]
        if item["type"] == "function_call":
            done_args = {"name": item["name"], "arguments": item["arguments"]}
            return [self._item_event("response.function_call_arguments.done", **done_args)]
        return []

    def _finish(self) -> list[bytes]:
        self._done = True
        self.response = self._asm.result()
        body = output.encode_response(self.response, self._ctx)
        kind = "response.completed" if body["status"] == "completed" else "response.incomplete"
        frames = []
        if self.response.grounding is not None:  # the search item, known only at the end
            item, index = body["output"][-1], len(body["output"]) - 1
            for step in ("response.output_item.added", "response.output_item.done"):
                frames.append(self._frame(step, output_index=index, item=item))
        return [*frames, self._frame(kind, response=body)]

    def _lifecycle(self, kind: str) -> list[bytes]:
        return [self._frame(kind, response=output.response_object(self._ctx, "in_progress", []))]

    def _delta(
        self, kind: str, delta: str, content_index: int | None = None, **extra: Any
    ) -> list[bytes]:
        self._text.append(delta)
        if content_index is not None:
            extra.update(content_index=content_index, logprobs=[])
        return [self._item_event(kind, delta=delta, **extra)]

    def _part_event(self, kind: str, text: str) -> bytes:
        return self._item_event(kind, content_index=0, part=output.output_text(text))

    def _item_event(self, kind: str, **payload: Any) -> bytes:
        assert self._open is not None
        index, kind_of_part = self._open.index, self._open.kind
        prefix = _PREFIXES[kind_of_part] if not self._custom else "ctc"
        item_id = output.item_id(self._ctx, prefix, index)
        return self._frame(kind, item_id=item_id, output_index=index, **payload)

    def _frame(self, kind: str, **payload: Any) -> bytes:
        self._seq += 1
        data = {"type": kind, "sequence_number": self._seq - 1, **payload}
        return encode_frame(msgspec.json.encode(data), event=kind)
