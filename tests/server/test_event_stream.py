"""`SseChunks` and `EventStream` without sockets: what one read gives, when the end is known,
and which events a relay can take at once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from antigravity_gateway.core.events import Finish, Start, TextDelta
from antigravity_gateway.errors import UpstreamError
from antigravity_gateway.protocols.openai_chat.outbound import StreamDecoder
from antigravity_gateway.providers.base import EventStream
from antigravity_gateway.providers.http import SseChunks


class _Response:
    """The upstream client's `Response` as SseChunks uses it: the body in the pieces it
    arrives in."""

    url = "http://upstream/v1/chat/completions"

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)
        self.reads = 0
        self.released = 0

    async def readany(self) -> bytes:
        self.reads += 1
        return self.pieces.pop(0) if self.pieces else b""

    def at_eof(self) -> bool:
        return not self.pieces

    def release(self) -> None:
        self.released += 1


def _frame(text: str, finish: str | None = None) -> bytes:
    choice: dict[str, Any] = {"index": 0, "delta": {"content": text}, "finish_reason": finish}
    return b"data: " + json.dumps({"id": "x", "choices": [choice]}).encode() + b"\n\n"


async def test_a_body_that_came_whole_is_read_once_and_known_ended() -> None:
    resp = _Response(_frame("Hel") + _frame("lo", "stop") + b"data: [DONE]\n\n")
    chunks = SseChunks(resp)  # type: ignore[arg-type]
    got = await chunks.read()
    assert [c["choices"][0]["delta"]["content"] for c in got] == ["Hel", "lo"]
    assert chunks.ended and resp.reads == 1 and resp.released == 1
    assert await chunks.read() == [] and resp.reads == 1


async def test_a_body_in_pieces_ends_with_its_last_piece() -> None:
    resp = _Response(_frame("a"), _frame("b")[:10], _frame("b")[10:])
    chunks = SseChunks(resp)  # type: ignore[arg-type]
    assert len(await chunks.read()) == 1 and not chunks.ended
    assert len(await chunks.read()) == 1  # the half event waits for its other half
    assert chunks.ended and resp.reads == 3 and resp.released == 1


async def test_a_required_stream_without_any_event_is_a_502() -> None:
    chunks = SseChunks(_Response(b"<html>busy</html>"), require=True)  # type: ignore[arg-type]
    with pytest.raises(UpstreamError) as failed:
        await chunks.read()
    assert failed.value.upstream_status == 502


async def test_the_relay_takes_every_event_received_and_knows_when_none_will_follow() -> None:
    resp = _Response(_frame("Hel") + _frame("lo", "stop"))
    events = EventStream(SseChunks(resp), StreamDecoder(model="m"))  # type: ignore[arg-type]
    seen: list[object] = []
    events.watch(seen.extend)
    taken = await events.take()  # both chunks came in one read: every event at once
    assert isinstance(taken[0], Start) and isinstance(taken[-1], Finish)
    assert [e.text for e in taken if isinstance(e, TextDelta)] == ["Hel", "lo"]
    assert events.exhausted and seen == taken  # the watcher saw each event once
    assert await events.take() == []
