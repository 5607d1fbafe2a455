"""Downloads the http(s) images and files a request points at, so the upstream gets them inline.

The upstream cannot fetch arbitrary URLs (its `fileData` takes only Google storage), so every
Media given by URL is fetched once per request, all at once, guarded by fetching.py. A failure
is a 400 naming the JSON path of the URL in the client's body. No caching or resizing.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import aiohttp
from msgspec.structs import replace

from ..core.messages import ChatRequest, Media, Message, Part, ToolResult
from ..errors import InvalidRequest
from ..protocols.fields import at
from .fetching import FetchRefused, Limits, fetch

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = 20.0
_KEPT_TYPES = ("image/", "audio/", "video/", "application/pdf", "text/")  # others: "", no sniffing


async def inline_media(
    http: aiohttp.ClientSession, req: ChatRequest, body: Any, *, allow_private: bool = False
) -> ChatRequest:
    """`req` with each URL-only Media replaced by its downloaded bytes."""
    urls = sorted({m.url for m in _media(req.messages) if m.url and not m.data})
    if not urls:
        return req
    limits = Limits(max_bytes=MAX_BYTES, timeout=TIMEOUT, allow_private=allow_private)
    fetched = await asyncio.gather(*(_fetch(http, url, body, limits) for url in urls))
    by_url = dict(zip(urls, fetched, strict=True))
    messages = tuple(_swapped(m, by_url) for m in req.messages)
    return replace(req, messages=messages)


def _media(messages: tuple[Message, ...]) -> Iterator[Media]:
    for message in messages:
        for part in message.parts:
            if isinstance(part, Media):
                yield part
            elif isinstance(part, ToolResult):
                yield from (p for p in part.content if isinstance(p, Media))


def _swapped(message: Message, by_url: dict[str, tuple[str, str]]) -> Message:
    def swap(part: Any) -> Any:
        if isinstance(part, Media) and part.url in by_url and not part.data:
            mime, data = by_url[part.url]
            return Media(mime=mime or part.mime, data=data)
        if isinstance(part, ToolResult):
            return replace(part, content=tuple(swap(p) for p in part.content))
        return part

    parts: tuple[Part, ...] = tuple(swap(p) for p in message.parts)
    return replace(message, parts=parts)


async def _fetch(
    http: aiohttp.ClientSession, url: str, body: Any, limits: Limits
) -> tuple[str, str]:
    """(mime type or "" when the server's says nothing useful, base64 data)."""
    try:
        fetched = await fetch(http, url, limits)
    except FetchRefused as exc:
        raise _unusable(url, body, str(exc)) from None
    if not fetched.data:
        raise _unusable(url, body, "it is empty")
    mime = fetched.content_type if fetched.content_type.startswith(_KEPT_TYPES) else ""
    return mime, base64.b64encode(fetched.data).decode()


def _unusable(url: str, body: Any, reason: str) -> InvalidRequest:
    return InvalidRequest(f"could not fetch {url}: {reason}", path=path_of(body, url))


def path_of(value: Any, needle: str, path: str = "") -> str:
    """The JSON path of the first string equal to `needle` in `value` ("" when absent)."""
    if isinstance(value, str):
        return path if value == needle else ""
    items: list[tuple[str | int, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, item in items:
        if found := path_of(item, needle, at(path, key)):
            return found
    return ""
