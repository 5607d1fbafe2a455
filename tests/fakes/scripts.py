"""Scripted replies for the simulator: reply pieces, `Reply`, and the FIFO queues that hold them.

A reply is a list of pieces (`text`, `thinking`, `tool_call`, `part`) plus modifiers (`finish`,
`usage`, `delay`, `BrokenStream`), or a `Fault` / `Disconnect`. Queues are keyed by optional
email / host / model / method; the most specific non-empty queue answers first.
Deliberately pure data: rendering to Google's wire format lives in `render.py`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.errors import Disconnect, Fault

GENERATE_METHODS = ("generateContent", "streamGenerateContent")


@dataclass(frozen=True)
class Text:
    text: str
    chunks: int | None = None  # None: the simulator's default (2)


@dataclass(frozen=True)
class Thinking:
    text: str
    signature: str | bool = (
        True  # True: issue like the real service; False: none; str: exactly this
    )
    chunks: int | None = None


@dataclass(frozen=True)
class ToolCall:
    name: str
    args: dict[str, Any]
    id: str | None = None  # None: Claude gets toolu_vrtx_..., Gemini omits it (unless configured)
    signature: str | bool = True


@dataclass(frozen=True)
class RawPart:
    """Any part dict sent verbatim in its own chunk (inlineData, executableCode, ...)."""

    part: dict[str, Any]


@dataclass(frozen=True)
class Finish:
    reason: str | None = "STOP"  # None: the stream ends without any finishReason


@dataclass(frozen=True)
class Usage:
    prompt: int | None = None  # None: estimated from the request / reply text
    candidates: int | None = None
    thoughts: int | None = None
    cached: int | None = None
    mode: str = (
        "every"  # every chunk (running) | final (last chunk only) | trailing (extra last chunk)
    )


@dataclass(frozen=True)
class Delay:
    between_chunks: float = 0.0
    before_headers: float = 0.0


@dataclass(frozen=True)
class BrokenStream:
    """Abort the connection after `after_chunks` SSE events (unary: after the headers)."""

    after_chunks: int = 1


Content = Text | Thinking | ToolCall | RawPart
Piece = Content | Finish | Usage | Delay | BrokenStream


_SLOTS: dict[type, str] = {Finish: "finish", Usage: "usage", Delay: "delay", BrokenStream: "broken"}


@dataclass(frozen=True, init=False)
class Reply:
    """One scripted successful answer: `Reply(thinking("..."), tool_call("ls"), finish("STOP"))`.

    Content pieces keep their order; modifiers (finish, usage, delay, BrokenStream) set options.
    Without content pieces the default answer is used (`empty=True`: a stream with no parts).
    """

    content: tuple[Content, ...]
    finish: Finish
    usage: Usage
    delay: Delay
    broken: BrokenStream | None
    empty: bool
    crlf: bool  # frame events with \r\n instead of \n
    model_version: str | None

    def __init__(
        self,
        *pieces: Piece,
        empty: bool = False,
        crlf: bool = False,
        model_version: str | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "finish": Finish(),
            "usage": Usage(),
            "delay": Delay(),
            "broken": None,
        }
        content = [piece for piece in pieces if type(piece) not in _SLOTS]
        values.update({_SLOTS[type(piece)]: piece for piece in pieces if type(piece) in _SLOTS})
        values.update(content=tuple(content), empty=empty, crlf=crlf, model_version=model_version)
        for name, value in values.items():
            object.__setattr__(self, name, value)


Answer = Reply | Fault | Disconnect
Scriptable = Answer | Piece | list[Piece] | tuple[Piece, ...]


def text(value: str, chunks: int | None = None) -> Text:
    return Text(value, chunks)


def thinking(value: str, signature: str | bool = True, chunks: int | None = None) -> Thinking:
    return Thinking(value, signature, chunks)


def tool_call(
    name: str,
    args: dict[str, Any] | None = None,
    id: str | None = None,
    signature: str | bool = True,
) -> ToolCall:
    return ToolCall(name, args or {}, id, signature)


def part(value: dict[str, Any]) -> RawPart:
    return RawPart(value)


def finish(reason: str | None = "STOP") -> Finish:
    return Finish(reason)


def usage(
    prompt: int | None = None,
    candidates: int | None = None,
    thoughts: int | None = None,
    **more: Any,
) -> Usage:
    return Usage(prompt, candidates, thoughts, **more)


def delay(between_chunks: float = 0.0, before_headers: float = 0.0) -> Delay:
    return Delay(between_chunks, before_headers)


def empty() -> Reply:
    return Reply(empty=True)


def to_answer(item: Scriptable) -> Answer:
    """Normalise what a test passed to `script()`: a piece or a list of pieces becomes one Reply."""
    if isinstance(item, (Reply, Fault, Disconnect)):
        return item
    if isinstance(item, (list, tuple)):
        return Reply(*item)
    return Reply(item)


@dataclass(frozen=True)
class Scope:
    email: str | None = None
    host: str | None = None
    model: str | None = None
    method: str | None = None  # None: the two generate methods

    def matches(self, email: str | None, host: str, model: str | None, method: str) -> bool:
        if self.method is None and method not in GENERATE_METHODS:
            return False
        wanted = (
            (self.email, email),
            (self.host, host),
            (self.model, model),
            (self.method, method),
        )
        return all(mine is None or mine == theirs for mine, theirs in wanted)

    def specificity(self) -> int:
        return sum(value is not None for value in (self.email, self.host, self.model, self.method))


@dataclass
class ScriptBook:
    """FIFO queues of answers per scope. Callers hold the simulator lock."""

    queues: dict[Scope, deque[Answer]] = field(default_factory=dict)

    def push(self, scope: Scope, answers: Iterable[Answer]) -> None:
        self.queues.setdefault(scope, deque()).extend(answers)

    def pop(self, email: str | None, host: str, model: str | None, method: str) -> Answer | None:
        best: deque[Answer] | None = None
        best_rank = -1
        for scope, queue in self.queues.items():
            if (
                queue
                and scope.specificity() > best_rank
                and scope.matches(email, host, model, method)
            ):
                best, best_rank = queue, scope.specificity()
        return best.popleft() if best is not None else None

    def pending(self) -> int:
        return sum(len(queue) for queue in self.queues.values())


@dataclass
class HostFault:
    answer: Fault | Disconnect
    times: int | None  # None: until healed
    method: str | None = None


@dataclass
class HostFaults:
    """Faults injected per host, checked before authentication. Callers hold the simulator lock."""

    faults: dict[str, list[HostFault]] = field(default_factory=dict)

    def add(self, host: str, fault: HostFault) -> None:
        self.faults.setdefault(host, []).append(fault)

    def take(self, host: str, method: str) -> Fault | Disconnect | None:
        for entry in self.faults.get(host, []):
            if entry.method not in (None, method):
                continue
            if entry.times is not None:
                entry.times -= 1
                if entry.times <= 0:
                    self.faults[host].remove(entry)
            return entry.answer
        return None

    def heal(self, host: str | None = None) -> None:
        if host is None:
            self.faults.clear()
        else:
            self.faults.pop(host, None)
