"""Remembers the signatures the upstream put on tool calls, for clients that drop them.

Most clients (all OpenAI ones, often Claude Code) replay a tool call without the upstream's
thought signature; Gemini 3 then wants it back on the call (docs/upstream.md §8). The
cache maps tool-call id -> signature, bounded (oldest forgotten first); the codec decides whether
a signature may be sent to a given model family. It keeps nothing else and nothing on disk.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from msgspec.structs import replace

from ..core.events import Event, PartEnd, PartStart
from ..core.messages import ChatRequest, Message, Signature, ToolCall


class SignatureCache:
    """Tool-call id -> the upstream's signature, bounded, oldest forgotten first."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._by_call: OrderedDict[str, Signature] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_call)

    def remember(self, call_id: str, signature: Signature) -> None:
        self._by_call[call_id] = signature
        self._by_call.move_to_end(call_id)
        while len(self._by_call) > self._capacity:
            self._by_call.popitem(last=False)

    def restore(self, req: ChatRequest) -> ChatRequest:
        """The request with known signatures put back on tool calls that arrived without one."""
        if not self._by_call or not any(self._missing(m) for m in req.messages):
            return req
        messages = tuple(self._restore_message(m) if self._missing(m) else m for m in req.messages)
        return replace(req, messages=messages)

    def _missing(self, message: Message) -> bool:
        """Whether `message` has an unsigned tool call whose signature is known."""
        return message.role == "assistant" and any(
            isinstance(p, ToolCall) and p.signature is None and p.id in self._by_call
            for p in message.parts
        )

    def _restore_message(self, message: Message) -> Message:
        parts = tuple(
            replace(p, signature=self._by_call[p.id])
            if isinstance(p, ToolCall) and p.signature is None and p.id in self._by_call
            else p
            for p in message.parts
        )
        return replace(message, parts=parts)

    def watcher(self) -> Callable[[list[Event]], None]:
        """An observer for one stream's events that remembers each signed tool call."""
        call_ids: dict[int, str] = {}

        def see(events: list[Event]) -> None:
            for event in events:
                if isinstance(event, PartStart) and event.kind == "tool_call":
                    call_ids[event.index] = event.tool_id
                elif isinstance(event, PartEnd) and event.signature and event.index in call_ids:
                    self.remember(call_ids[event.index], event.signature)

        return see
