"""`Outcome`: what the simulator decided to send, built under the state lock and written later.

Also the byte-level helpers: Google's response headers, JSON encoding (msgspec) and SSE framing
(`data: <json>\\n\\n`, no `event:`/`id:` lines, no `[DONE]`). Deliberately no aiohttp imports here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from tests.fakes.errors import Disconnect, Fault

JSON_TYPE = "application/json; charset=UTF-8"
SSE_TYPE = "text/event-stream"
_STATIC_HEADERS = {
    "Server": "ESF",
    "Vary": "Origin, X-Origin, Referer",
    "X-XSS-Protection": "0",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
}
_encode = msgspec.json.Encoder().encode


@dataclass
class Outcome:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    events: list[bytes] | None = None  # SSE frames; None for a plain body
    chunk_delay: float = 0.0
    initial_delay: float = 0.0
    break_after: int | None = None  # abort the connection after this many events
    disconnect: bool = False  # close without answering


def encode_json(data: Any) -> bytes:
    return _encode(data)


def google_headers(content_type: str, trace_id: str | None = None) -> dict[str, str]:
    headers = {**_STATIC_HEADERS, "Content-Type": content_type}
    if trace_id:
        headers["x-cloudaicompanion-trace-id"] = trace_id
    return headers


def json_outcome(data: Any, trace_id: str | None = None, status: int = 200) -> Outcome:
    return Outcome(status, encode_json(data), google_headers(JSON_TYPE, trace_id))


def answer_outcome(
    answer: Fault | Disconnect, content_type: str = JSON_TYPE, trace_id: str | None = None
) -> Outcome:
    """An error (or canned) answer; stream requests keep `text/event-stream` like Google does."""
    if isinstance(answer, Disconnect):
        return Outcome(disconnect=True, initial_delay=answer.delay)
    headers = {**google_headers(content_type, trace_id), **answer.headers}
    return Outcome(answer.status, answer.encode(), headers, initial_delay=answer.delay)


def sse_frames(events: list[dict[str, Any]], crlf: bool = False) -> list[bytes]:
    end = b"\r\n\r\n" if crlf else b"\n\n"
    return [b"data: " + _encode(event) + end for event in events]
