"""Stream events: the one shape every response takes between upstream and client.

Upstream decoders produce events; client encoders consume them. `check` asserts the stream
invariants, `assemble` folds a stream into a `ChatResponse`, `replay` turns a response back into
a stream. Errors are exceptions, never events. Pure: no IO, no clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Literal, assert_never

import msgspec

from .messages import (
    ChatResponse,
    FinishReason,
    Grounding,
    Media,
    Signature,
    Text,
    Thinking,
    ToolCall,
    Usage,
)

PartKind = Literal["text", "thinking", "tool_call", "media"]


class Start(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    model: str


class PartStart(msgspec.Struct, frozen=True, kw_only=True):
    """Opens part number `index`; tool calls carry their identity here, media its content."""

    index: int
    kind: PartKind
    tool_id: str = ""
    tool_name: str = ""
    media: Media | None = None
    redacted: bool = False


class TextDelta(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    text: str


class ThinkingDelta(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    text: str


class ToolArgsDelta(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    json: str  # a fragment of the arguments' JSON text


class PartEnd(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    signature: Signature | None = None


class Finish(msgspec.Struct, frozen=True, kw_only=True):
    reason: FinishReason
    usage: Usage = Usage()
    grounding: Grounding | None = None  # web search results, known once the answer is complete


Event = Start | PartStart | TextDelta | ThinkingDelta | ToolArgsDelta | PartEnd | Finish

_DELTA_KIND: dict[type, PartKind] = {
    TextDelta: "text",
    ThinkingDelta: "thinking",
    ToolArgsDelta: "tool_call",
}


class StreamViolation(AssertionError):
    """A stream broke one of the invariants `check` asserts."""


def check(events: Iterable[Event]) -> list[Event]:
    """Assert Start first, Finish last (once each), parts strictly sequential; return the list."""
    evs = list(events)
    if not evs or not isinstance(evs[0], Start):
        raise StreamViolation("stream must begin with Start")
    if not isinstance(evs[-1], Finish):
        raise StreamViolation("stream must end with Finish")
    open_part: PartStart | None = None
    next_index = 0
    for ev in evs[1:-1]:
        open_part, next_index = _check_one(ev, open_part, next_index)
    if open_part is not None:
        raise StreamViolation(f"part {open_part.index} never ended")
    return evs


def _check_one(
    ev: Event, open_part: PartStart | None, next_index: int
) -> tuple[PartStart | None, int]:
    if isinstance(ev, Start | Finish):
        raise StreamViolation(f"{type(ev).__name__} may appear only once")
    if isinstance(ev, PartStart):
        if open_part is not None or ev.index != next_index:
            raise StreamViolation(f"part {ev.index} started out of order")
        if (ev.kind == "media") != (ev.media is not None):
            raise StreamViolation(f"part {ev.index}: media comes with a media part, and only then")
        return ev, next_index + 1
    if open_part is None or ev.index != open_part.index:
        raise StreamViolation(f"{type(ev).__name__} for part {ev.index} that is not open")
    if isinstance(ev, PartEnd):
        return None, next_index
    if _DELTA_KIND[type(ev)] != open_part.kind:
        raise StreamViolation(f"{type(ev).__name__} inside a {open_part.kind} part")
    return open_part, next_index


class Assembler:
    """Incremental fold of events into a ChatResponse (used by non-stream clients)."""

    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.parts: list[Text | Thinking | ToolCall | Media] = []
        self._open: PartStart | None = None
        self._buffer: list[str] = []
        self.finish: Finish | None = None

    def feed(self, ev: Event) -> None:
        match ev:
            case Start(id=id_, model=model):
                self.id, self.model = id_, model
            case PartStart():
                self._open, self._buffer = ev, []
            case TextDelta(text=t) | ThinkingDelta(text=t) | ToolArgsDelta(json=t):
                self._buffer.append(t)
            case PartEnd(signature=sig):
                self.parts.append(self._close(sig))
            case Finish():
                self.finish = ev
            case _:
                assert_never(ev)

    def _close(self, sig: Signature | None) -> Text | Thinking | ToolCall | Media:
        opened, text = self._open, "".join(self._buffer)
        assert opened is not None
        self._open = None
        if opened.kind == "text":
            return Text(text=text, signature=sig)
        if opened.kind == "thinking":
            return Thinking(text=text, signature=sig, redacted=opened.redacted)
        if opened.kind == "tool_call":
            args = json.loads(text) if text.strip() else {}
            return ToolCall(id=opened.tool_id, name=opened.tool_name, arguments=args, signature=sig)
        assert opened.media is not None
        return opened.media

    def result(self) -> ChatResponse:
        if self.finish is None:
            raise StreamViolation("stream ended without Finish")
        return ChatResponse(
            id=self.id,
            model=self.model,
            parts=tuple(self.parts),
            finish_reason=self.finish.reason,
            usage=self.finish.usage,
            grounding=self.finish.grounding,
        )


def assemble(events: Iterable[Event]) -> ChatResponse:
    asm = Assembler()
    for ev in events:
        asm.feed(ev)
    return asm.result()


def replay(resp: ChatResponse) -> Iterator[Event]:
    """The canonical event stream of a response: one delta per part."""
    yield Start(id=resp.id, model=resp.model)
    for index, part in enumerate(resp.parts):
        yield from _replay_part(index, part)
    yield Finish(reason=resp.finish_reason, usage=resp.usage, grounding=resp.grounding)


def _replay_part(index: int, part: Text | Thinking | ToolCall | Media) -> Iterator[Event]:
    match part:
        case Text(text=text, signature=sig):
            yield PartStart(index=index, kind="text")
            yield TextDelta(index=index, text=text)
        case Thinking(text=text, signature=sig, redacted=redacted):
            yield PartStart(index=index, kind="thinking", redacted=redacted)
            yield ThinkingDelta(index=index, text=text)
        case ToolCall(id=id_, name=name, arguments=args, signature=sig):
            yield PartStart(index=index, kind="tool_call", tool_id=id_, tool_name=name)
            yield ToolArgsDelta(index=index, json=json.dumps(args, ensure_ascii=False))
        case Media():
            sig = None
            yield PartStart(index=index, kind="media", media=part)
        case _:
            assert_never(part)
    yield PartEnd(index=index, signature=sig)
