"""Downloads the http(s) images and files a request points at, so the upstream gets them inline.

The upstream cannot fetch arbitrary URLs (its `fileData` takes only Google storage), so every
Media given by URL is fetched once per request through the gateway's HTTP session: at most
MAX_BYTES each, within TIMEOUT seconds, all at once. A failure is a 400 naming the JSON path of
the URL in the client's body. No caching, resizing or content sniffing.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import aiohttp

from ..core.messages import ChatRequest, Media, Message, Part, ToolResult
from ..errors import InvalidRequest
from ..protocols.fields import at

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = 20.0
_KEPT_TYPES = ("image/", "audio/", "video/", "application/pdf", "text/")


async def inline_media(http: aiohttp.ClientSession, req: ChatRequest, body: Any) -> ChatRequest:
    """`req` with each URL-only Media replaced by its downloaded bytes."""
    urls = sorted({m.url for m in _media(req.messages) if m.url and not m.data})
    if not urls:
        return req
    fetched = await asyncio.gather(*(_fetch(http, url, body) for url in urls))
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


async def _fetch(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[str, str]:
    """(mime type or "" when the server's says nothing useful, base64 data)."""
    try:
        timeout = aiohttp.ClientTimeout(total=TIMEOUT)
        async with http.get(url, timeout=timeout) as resp:
            if resp.status != 200:
                raise _unusable(url, body, f"the server answered HTTP {resp.status}")
            if (resp.content_length or 0) > MAX_BYTES:
                raise _unusable(url, body, f"it is larger than {MAX_BYTES} bytes")
            data = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise _unusable(url, body, f"it is larger than {MAX_BYTES} bytes")
            mime = resp.content_type if resp.content_type.startswith(_KEPT_TYPES) else ""
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        reason = "it timed out" if isinstance(exc, TimeoutError) else str(exc)
        raise _unusable(url, body, reason or type(exc).__name__) from None
    if not data:
        raise _unusable(url, body, "it is empty")
    return mime, base64.b64encode(bytes(data)).decode()


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
