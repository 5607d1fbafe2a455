"""The access log: one line per request on stderr, and the request id on every log line.

The middleware opens an `AccessRecord` in a context variable; the pipeline notes the model, the
mapped model and the account on it (`note`); when the answer is done, `format_line` renders it:
`[id] POST /v1/chat/completions 200 gpt-4o -> gemini-3-flash a@example.com 1.23s` (or `85ms`).
`RequestIdFilter` prefixes other lines logged while a request runs with `[id]`.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

log = logging.getLogger("antigravity_gateway.access")
CLIENT_GONE = 499  # the client hung up before the answer was complete (nginx's convention)


@dataclass(slots=True)
class AccessRecord:
    """What one request did; filled in as it is served."""

    request_id: str
    method: str
    path: str
    started: float
    status: int = 500  # until an answer says otherwise
    model: str = ""
    mapped: str = ""
    account: str = ""
    seconds: float = 0.0


_current: contextvars.ContextVar[AccessRecord | None] = contextvars.ContextVar(
    "access_record", default=None)


def note(*, model: str = "", mapped: str = "", account: str = "") -> None:
    """Record what the request is being served with (a no-op outside a request)."""
    record = _current.get()
    if record is not None:
        record.model = model or record.model
        record.mapped = mapped or record.mapped
        record.account = account or record.account


def current_request_id() -> str:
    record = _current.get()
    return record.request_id if record is not None else ""


def format_line(record: AccessRecord) -> str:
    """The one access line (the single place its layout is decided)."""
    parts = [f"[{record.request_id}]", record.method, record.path, str(record.status)]
    if record.model:
        parts.append(f"{record.model} -> {record.mapped or '?'}")
    if record.account:
        parts.append(record.account)
    parts.append(f"{record.seconds * 1000:.0f}ms" if record.seconds < 1 else
                 f"{record.seconds:.2f}s")
    return " ".join(parts)


def middleware(request_id_of: Callable[[web.Request], str]) -> Middleware:
    """Runs inside `request_ids`: times the request and logs its line when it is answered."""

    @web.middleware
    async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
        record = AccessRecord(request_id_of(request) or "-", request.method, request.path,
                              time.monotonic())
        token = _current.set(record)
        try:
            response = await handler(request)
            record.status = response.status
            return response
        except web.HTTPException as exc:
            record.status = exc.status
            raise
        except asyncio.CancelledError:
            record.status = CLIENT_GONE
            raise
        finally:
            _current.reset(token)
            record.seconds = time.monotonic() - record.started
            if log.isEnabledFor(logging.INFO):
                log.info("%s", format_line(record))

    return access_log


class RequestIdFilter(logging.Filter):
    """Prefix a line logged while a request is served (not the access line) with `[id]`."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id()
        if request_id and record.name != log.name and not str(record.msg).startswith("["):
            record.msg = f"[{request_id}] {record.msg}"
        return True
