"""Server-sent events: an incremental decoder (bytes in, events out) and a frame encoder.

Follows the WHATWG event-stream rules that matter to us: `\\n`, `\\r\\n` and `\\r` line ends,
several `data:` lines joined with `\\n`, comments (`:`) ignored, an optional space after the colon,
a leading BOM dropped. It neither parses JSON nor knows about any vendor's payloads.
"""

from __future__ import annotations

import msgspec


class SseEvent(msgspec.Struct, frozen=True):
    """One server-sent event: its data (lines joined), event type and id."""

    data: str
    event: str = ""
    id: str = ""


class SseDecoder:
    """Feed it chunks of bytes as they arrive; it returns the events completed so far."""

    __slots__ = ("_buffer", "_data", "_event", "_id", "_started", "_pending_cr")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[str] = []
        self._event = ""
        self._id = ""
        self._started = False
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[SseEvent]:
        if not chunk:
            return []
        if self._pending_cr and chunk.startswith(b"\n"):
            chunk = chunk[1:]  # the \n of a \r\n split across chunks
        self._pending_cr = chunk.endswith(b"\r")
        buffer = self._buffer + chunk
        if not self._started:
            if len(buffer) < 3 and b"\xef\xbb\xbf".startswith(buffer):
                self._buffer = buffer  # maybe a BOM split across chunks: wait for more
                return []
            self._started = True
            buffer = buffer.removeprefix(b"\xef\xbb\xbf")
        lines = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        self._buffer = lines.pop()
        events: list[SseEvent] = []
        for line in lines:
            event = self._line(line.decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[SseEvent]:
        """End of stream: a final event without its blank line still counts (lenient)."""
        events = self.feed(b"\n") if self._buffer else []
        if self._data:
            events.append(self._dispatch())
        return [e for e in events if e is not None]

    def _line(self, line: str) -> SseEvent | None:
        if not line:
            return self._dispatch() if self._data or self._event else None
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            self._id = value
        return None

    def _dispatch(self) -> SseEvent:
        event = SseEvent(data="\n".join(self._data), event=self._event, id=self._id)
        self._data, self._event = [], ""
        return event


def encode_frame(data: str | bytes, event: str = "") -> bytes:
    """One SSE frame. `data` may hold newlines; each line becomes its own `data:` line."""
    raw = data.encode() if isinstance(data, str) else data
    head = b"event: " + event.encode() + b"\n" if event else b""
    if b"\n" not in raw and b"\r" not in raw:
        return head + b"data: " + raw + b"\n\n"
    lines = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    return head + b"".join(b"data: " + line + b"\n" for line in lines) + b"\n"


def encode_comment(text: str = "") -> bytes:
    """A comment frame, used as a keep-alive ping."""
    return b": " + text.encode() + b"\n\n"
