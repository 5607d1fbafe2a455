"""Connection-level limits aiohttp lacks: a connection cap, and no reading after a bad request.

`GuardedRunner` is an `AppRunner` whose server caps connections (idle ones are closed first)
and whose connections stop reading once a request fails to parse. This leans on aiohttp's
`Server` and `RequestHandler` internals (pinned major version); the tests drive both with real
sockets.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler, _ErrInfo

log = logging.getLogger(__name__)

OVERLOADED = json.dumps({"error": {
    "code": 503, "type": "overloaded_error", "status": "UNAVAILABLE",
    "message": "the gateway has too many open connections; retry shortly"}}).encode()
_503 = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\nRetry-After: 1\r\nContent-Length: %d\r\n\r\n" % len(OVERLOADED)
        + OVERLOADED)


class GuardedProtocol(RequestHandler):
    """A connection that reads nothing more once its request could not be parsed."""

    _refusing = False

    def data_received(self, data: bytes) -> None:
        if self._refusing:
            return
        super().data_received(data)
        queued: Any = getattr(self, "_messages", ())
        # left alone, aiohttp keeps feeding the broken parser and queues one error per chunk:
        # a 10 MB header flood would cost memory in proportion to its size
        if queued and isinstance(queued[-1][0], _ErrInfo):
            self._refusing = True  # it answers 400 and closes; the rest is not read
            if self.transport is not None:
                self.transport.pause_reading()


class GuardedServer(web.Server):
    """Counts connections; over the cap closes idle ones first, else answers 503."""

    max_connections = 0  # set by GuardedRunner

    def __call__(self) -> RequestHandler:
        return GuardedProtocol(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        excess = len(self._connections) - self.max_connections
        if excess <= 0:
            return
        # aiohttp's own flag, set while a handler runs: no wrapper around every request
        idle = [h for h in self._connections if h is not handler and not h._request_in_progress]
        # the oldest idle ones go first, so idle sockets never lock a new client out; 503 only
        # when every connection is busy
        for old in idle[:excess]:
            old.close()  # an idle keep-alive connection: the client reconnects when it needs to
            old.force_close()
        if len(idle) < excess:
            log.warning("connection refused: %d connections open (limit %d)",
                        len(self._connections), self.max_connections)
            transport.write(_503)
            transport.close()


class GuardedRunner(web.AppRunner):
    """An AppRunner whose server is a GuardedServer with `max_connections`."""

    def __init__(self, app: web.Application, *, max_connections: int, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._max_connections = max_connections

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        server.__class__ = GuardedServer  # same layout; only methods differ
        assert isinstance(server, GuardedServer)
        server.max_connections = self._max_connections
        return server
