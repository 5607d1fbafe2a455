"""Serving an ASGI app (the `mcp` SDK's Streamable-HTTP session manager) from an aiohttp handler.

The request body is handed over chunk by chunk as it arrives and the response is written as the
app sends it (SSE included), never buffered whole. When the client hangs up, `receive()` answers
`http.disconnect` and writes are dropped, so the SDK ends the stream and frees the session task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from aiohttp import web

from .calls import Sniffer
from .hangup import until_client_gone

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]
log = logging.getLogger(__name__)
FINISH_SECONDS = 10.0  # how long a cancelled request's app may take to wind down
_HOP_BY_HOP = frozenset({b"connection", b"transfer-encoding", b"keep-alive", b"content-length"})


def scope_of(request: web.Request) -> dict[str, Any]:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": f"{request.version.major}.{request.version.minor}",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.raw_path.split("?")[0].encode(),
        "query_string": request.query_string.encode(),
        "root_path": "",
        "headers": [(name.lower(), value) for name, value in request.raw_headers],
        "client": tuple(peer[:2]) if peer else None,
        "server": None,
    }


class Exchange:
    """One request/response pair between aiohttp and an ASGI app."""

    def __init__(
        self,
        request: web.Request,
        sniffer: Sniffer,
        headers: dict[str, str] | None = None,
        closing: asyncio.Event | None = None,
    ) -> None:
        """`headers`: added to the app's response headers (e.g. the gateway's X-Request-Id);
        `closing`: once set, the app is told the client left (the gateway is stopping)."""
        self.request = request
        self.sniffer = sniffer
        self.headers = headers or {}
        self.closing = closing
        self.response: web.StreamResponse | None = None
        self._body_done = False
        self._peeked: bytes | None = None
        self._gone = asyncio.Event()

    async def peek(self) -> bytes:
        """The body's first chunk, read ahead (it is still handed to the app); call it first."""
        if self._peeked is None:
            self._peeked = await self._read()
        return self._peeked

    async def _read(self) -> bytes:
        chunk = await self.request.content.readany()
        self.sniffer.feed(chunk)
        return chunk

    async def receive(self) -> Message:
        if not self._body_done and not self.gone:
            try:
                chunk = self._peeked if self._peeked is not None else await self._read()
            except ConnectionError:  # the client left in the middle of its body
                self.hang_up()
                return {"type": "http.disconnect"}
            self._peeked = None  # handed over: from now on, read
            self._body_done = not chunk
            return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}
        watcher = asyncio.ensure_future(until_client_gone(self.request, self.closing))
        gone = asyncio.ensure_future(self._gone.wait())
        try:
            await asyncio.wait({watcher, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
            gone.cancel()
        return {"type": "http.disconnect"}

    @property
    def gone(self) -> bool:
        return self._gone.is_set()

    def hang_up(self) -> None:
        """The client left: `receive()` answers `http.disconnect`, writes are dropped."""
        self._gone.set()

    async def send(self, message: Message) -> None:
        if self._gone.is_set():
            return
        try:
            await self._send(message)
        except ConnectionError:
            self._gone.set()

    async def _send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.response = web.StreamResponse(status=int(message["status"]), headers=self.headers)
            for name, value in message.get("headers", []):
                if name.lower() not in _HOP_BY_HOP:
                    self.response.headers.add(name.decode("latin-1"), value.decode("latin-1"))
            return
        if message["type"] != "http.response.body" or self.response is None:
            return
        if not self.response.prepared:
            await self.response.prepare(self.request)
        if body := message.get("body", b""):
            await self.response.write(body)
        if not message.get("more_body", False):
            await self.response.write_eof()


async def serve(app: ASGIApp, exchange: Exchange) -> web.StreamResponse:
    """Run `app` for the exchange's request and return the response it wrote."""
    request = exchange.request
    await _run_to_the_end(app(scope_of(request), exchange.receive, exchange.send), exchange)
    response = exchange.response
    if response is not None and response.prepared:
        return response
    if response is None or exchange.gone:
        return web.Response(status=499)  # the client went away before the answer was written
    with contextlib.suppress(ConnectionError):
        await response.prepare(request)  # an answer with no body
    return response


async def _run_to_the_end(call: Awaitable[None], exchange: Exchange) -> None:
    """Await the app; when the handler is cancelled (the client hung up), tell the app so and
    still let it finish: the SDK must not see a cancellation in the middle of its bookkeeping
    (a cancelled opening request makes it drop the session it just created)."""
    task = asyncio.ensure_future(call)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        exchange.hang_up()
        done, _ = await asyncio.wait({task}, timeout=FINISH_SECONDS)
        if not done:
            task.cancel()
        elif not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("MCP request failed after its client left: %r", exc)
        if exchange.response is None or not exchange.response.prepared:
            raise
