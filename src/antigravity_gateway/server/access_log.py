"""The request id on every log line, and the access line of requests the monitor does not log.

The middleware keeps the request id in a context variable for the whole request;
`RequestIdFilter` (installed by the runner) prefixes every text line logged meanwhile with
`[id]`, the monitor's access line included. Requests the monitor records (the proxied ones) get
their access line from it; the others (health checks, unknown paths, refused keys) get one here,
drawn by the same `monitor.access.format_access`, so every request has exactly one line.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..monitor.access import LOGGER, format_access
from ..monitor.record import CLIENT_CLOSED, Record, protocol_of
from .monitoring import MONITOR

log = logging.getLogger(LOGGER)

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


def middleware(request_id_of: Callable[[web.Request], str]) -> Middleware:
    """Runs inside `request_ids`: the id for the log lines; the line of an unmonitored request."""

    @web.middleware
    async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
        token = _request_id.set(request_id_of(request) or "-")
        if protocol_of(request.method, request.path) is not None:
            try:
                return await handler(request)  # the monitor writes this request's line
            finally:
                _request_id.reset(token)
        record = Record(timestamp_ms=int(time.time() * 1000), method=request.method,
                        path=request.path, protocol="", started=time.perf_counter())
        try:
            response = await handler(request)
            record.status = response.status
            return response
        except web.HTTPException as exc:
            record.status = exc.status
            raise
        except asyncio.CancelledError:
            record.status = CLIENT_CLOSED
            raise
        finally:
            record.duration_ms = (time.perf_counter() - record.started) * 1000
            if log.isEnabledFor(logging.INFO):
                log.info("%s", format_access(record, as_json=_as_json(request)))
            _request_id.reset(token)

    return access_log


def _as_json(request: web.Request) -> bool:
    """The monitor decides the access log's format (`--log-format`)."""
    monitor = request.app.get(MONITOR)
    return bool(monitor and monitor.json_access_log)


class RequestIdFilter(logging.Filter):
    """Prefix a text line logged while a request is served with `[id]` (JSON lines stay JSON)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        message = str(record.msg)
        if request_id and not message.startswith(("[", "{")):
            record.msg = f"[{request_id}] {message}"
        return True
