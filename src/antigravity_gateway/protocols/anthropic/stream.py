"""Hub events -> Anthropic's SSE, frame for frame as Anthropic sends it (each with `event:`).

Block indexes are the hub's part indexes. A thinking block's signature_delta comes just before
its content_block_stop; redacted thinking is buffered and sent whole when its part ends.
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
from antigravity_gateway.core.messages import Media, Usage
from antigravity_gateway.core.sse import encode_frame
from antigravity_gateway.errors import GatewayError
from antigravity_gateway.protocols.markdown import markdown_image

from . import wire
from .blocks import encode_signature
from .inbound import STOP_REASONS, encode_error, encode_usage
from .search import search_blocks

_PING = encode_frame(b'{"type":"ping"}', event="ping")


def frame(event: str, payload: dict[str, Any]) -> bytes:
    return encode_frame(msgspec.json.encode({"type": event, **payload}), event=event)


def message_start(id: str, model: str) -> bytes:
    """The opening frame; its usage is zero, the real count arrives with message_delta."""
    message: wire.Message = {
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": encode_usage(Usage()),
    }
    return frame("message_start", {"message": message})


class StreamEncoder:
    """Hub events in, one response's Anthropic Messages SSE frames out."""

    def __init__(self, *, id: str, model: str) -> None:
        self._id, self._model = id, model
        self._redacted: dict[int, list[str]] = {}  # redacted thinking parts, buffered
        self._thinking: set[int] = set()  # thinking parts: the only ones whose signature we send
        self._next = 0  # the next free block index
        self._done = False

    def feed(self, event: Event) -> list[bytes]:
        if self._done:
            return []
        match event:
            case Start():
                return [message_start(self._id, self._model)]
            case PartStart():
                return self._start(event)
            case TextDelta(index=index, text=text) if text:
                return [self._delta(index, {"type": "text_delta", "text": text})]
            case ThinkingDelta(index=index, text=text) if index in self._redacted:
                self._redacted[index].append(text)
            case ThinkingDelta(index=index, text=text) if text:
                return [self._delta(index, {"type": "thinking_delta", "thinking": text})]
            case ToolArgsDelta(index=index, json=fragment) if fragment:
                return [self._delta(index, {"type": "input_json_delta", "partial_json": fragment})]
            case PartEnd():
                return self._end(event)
            case Finish():
                return self._finish(event)
        return []

    def ping(self) -> list[bytes]:
        """Anthropic's keep-alive frame."""
        return [] if self._done else [_PING]

    def fail(self, err: GatewayError) -> list[bytes]:
        """Anthropic's in-stream `error` event; nothing follows it."""
        if self._done:
            return []
        self._done = True
        return [frame("error", {"error": encode_error(err)[1]["error"]})]

    def _start(self, start: PartStart) -> list[bytes]:
        block: wire.ContentBlock
        self._next = start.index + 1
        if start.kind == "thinking" and start.redacted:
            self._redacted[start.index] = []
            return []
        if start.kind == "thinking":
            self._thinking.add(start.index)
            block = {"type": "thinking", "thinking": "", "signature": ""}
        elif start.kind == "tool_call":
            block = {"type": "tool_use", "id": start.tool_id, "name": start.tool_name, "input": {}}
        else:
            block = {"type": "text", "text": ""}
        frames = [frame("content_block_start", {"index": start.index, "content_block": block})]
        if isinstance(start.media, Media):
            image = markdown_image(start.media)
            frames.append(self._delta(start.index, {"type": "text_delta", "text": image}))
        return frames

    def _end(self, end: PartEnd) -> list[bytes]:
        stop = frame("content_block_stop", {"index": end.index})
        if end.index in self._redacted:
            data = "".join(self._redacted.pop(end.index))
            block: wire.RedactedThinkingBlock = {"type": "redacted_thinking", "data": data}
            start = frame("content_block_start", {"index": end.index, "content_block": block})
            return [start, stop]
        if end.signature is None or end.index not in self._thinking:
            return [stop]
        signature = encode_signature(end.signature)
        return [self._delta(end.index, {"type": "signature_delta", "signature": signature}), stop]

    def _finish(self, finish: Finish) -> list[bytes]:
        self._done = True
        delta: wire.MessageDelta = {
            "stop_reason": STOP_REASONS[finish.reason],
            "stop_sequence": None,
        }
        usage = encode_usage(finish.usage)
        frames = []
        if finish.grounding is not None:  # known only now: the search blocks follow the text
            usage["server_tool_use"] = {
                "web_search_requests": max(1, len(finish.grounding.queries))
            }
            for index, block in enumerate(search_blocks(finish.grounding, self._id), self._next):
                frames.append(
                    frame("content_block_start", {"index": index, "content_block": block})
                )
                frames.append(frame("content_block_stop", {"index": index}))
        end = [frame("message_delta", {"delta": delta, "usage": usage}), frame("message_stop", {})]
        return frames + end

    def _delta(self, index: int, delta: wire.BlockDelta) -> bytes:
        return frame("content_block_delta", {"index": index, "delta": delta})
