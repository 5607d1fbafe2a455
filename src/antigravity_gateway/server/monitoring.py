"""The monitor's hooks at the server edge: a middleware that opens and closes one record per
proxied request, and a tap on the hub events a handler answers with.

The tap adds what only the events know (tokens, time to first byte, a stream's answer, a
client that stopped reading: 499). Deeper code (the attempt loop, media, MCP, warmup) reaches
the current record through `attempted(email)` and `note(**fields)`, which do nothing without one.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..core.events import Assembler, Event, Finish
from ..core.messages import ChatResponse
from ..errors import GatewayError
from ..monitor.record import CLIENT_CLOSED, Record, protocol_of
from ..monitor.service import Monitor

MONITOR = web.AppKey("monitor", Monitor)
_CURRENT: contextvars.ContextVar[tuple[Record, Monitor] | None] = contextvars.ContextVar(
    "agm_monitor_record", default=None)
_LOOPBACK = frozenset({"127.0.0.1", "::1"})


def current() -> Record | None:
    watched = _CURRENT.get()
    return watched[0] if watched else None


def attempted(account_email: str) -> None:
    """The attempt loop starts one more upstream attempt on `account_email`."""
    if (record := current()) is not None:
        record.attempted(account_email)


def note(**fields: Any) -> None:
    """Set fields of the current request's record (model, mapped_model, tokens...)."""
    if (record := current()) is not None:
        for name, value in fields.items():
            setattr(record, name, value)


@contextlib.asynccontextmanager
async def recorded(
    monitor: Monitor, *, protocol: str, path: str, model: str = ""
) -> AsyncIterator[Record]:
    """One row for work that is no HTTP request (a scheduled warmup): the attempt loop and the
    tap fill it as they do for requests; the caller sets `status` (else 200, or the error's)."""
    record = Record(timestamp_ms=int(time.time() * 1000), method="POST", path=path,
                    protocol=protocol, model=model, started=time.perf_counter())
    token = _CURRENT.set((record, monitor))
    try:
        yield record
    except GatewayError as exc:
        record.status, record.error = exc.http_status, exc.message
        raise
    finally:
        _CURRENT.reset(token)
        record.status = record.status or 200
        record.duration_ms = (time.perf_counter() - record.started) * 1000
        monitor.finish(record)


def middleware() -> Middleware:
    """One record per request: a proxied one is monitored (row, metrics, access line), any
    other (health, admin API, pages, refused keys) gets its access line only."""

    @web.middleware
    async def monitored(request: web.Request, handler: Handler) -> web.StreamResponse:
        protocol = protocol_of(request.method, request.path)
        monitor = request.app[MONITOR]
        record = Record(timestamp_ms=int(time.time() * 1000), method=request.method,
                        path=request.path, protocol=protocol or "", started=time.perf_counter())
        token = _CURRENT.set((record, monitor)) if protocol else None
        try:
            response = await handler(request)
            if token is None:
                record.status = response.status
            else:
                _complete(record, request, response, monitor)
            return response
        except asyncio.CancelledError:
            record.status, record.error = CLIENT_CLOSED, "the client closed the connection"
            raise
        except BaseException as exc:
            record.status = getattr(exc, "status", 500)
            record.error = str(exc)
            raise
        finally:
            if token is None:
                record.duration_ms = (time.perf_counter() - record.started) * 1000
                monitor.log_access(record)
            else:
                _CURRENT.reset(token)
                # once aiohttp has sent the answer: the row, metrics and access line are no part
                # of the client's wait (c=1 p50 -27 us, bench/README.md)
                asyncio.get_running_loop().call_soon(_finish, record, request, monitor)

    return monitored


def _finish(record: Record, request: web.Request, monitor: Monitor) -> None:
    _close(record, request, monitor)
    monitor.finish(record)


def client_ip(request: web.Request) -> str:
    """The peer; behind a local reverse proxy, the first X-Forwarded-For address."""
    peer = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and peer in _LOOPBACK:
        return forwarded.split(",", 1)[0].strip()[:64]
    return peer


def _complete(
    record: Record, request: web.Request, response: web.StreamResponse, monitor: Monitor
) -> None:
    """What the response says: status, `X-Mapped-Model`, `X-Account-Email`, a hang-up, body."""
    headers = response.headers
    if not record.status:
        record.status = response.status
    record.mapped_model = headers.get("X-Mapped-Model", record.mapped_model)
    record.account_email = headers.get("X-Account-Email", record.account_email)
    if record.abandoned and not record.error:
        record.status, record.error = CLIENT_CLOSED, "the client hung up before the answer ended"
    elif not response.prepared and _gone(request):
        record.status, record.error = CLIENT_CLOSED, "the client hung up before the answer"
    if not response.prepared and isinstance(response, web.Response):
        body = response.body if isinstance(response.body, bytes) else b""
        record.response_body = body[:_cap(monitor)]
        if record.status >= 400 and not record.error:
            record.error = _error_message(body)


def _close(record: Record, request: web.Request, monitor: Monitor) -> None:
    record.client_ip = client_ip(request)
    record.duration_ms = (time.perf_counter() - record.started) * 1000
    if record.ttfb_ms is None:
        record.ttfb_ms = record.duration_ms
    raw = getattr(request, "_read_bytes", None)  # the body, when the handler read it
    if isinstance(raw, bytes):
        record.request_body = raw[:_cap(monitor)]
    record.model = _path_model(request) or record.model  # else the body's (read_json noted it)


def _cap(monitor: Monitor) -> int:
    """Bytes of a body worth queueing: none when bodies are not kept."""
    settings = monitor.settings
    if not (settings.enabled and settings.log_bodies):
        return 0
    return settings.max_body_chars * 4 + 4  # UTF-8: at most 4 bytes a character


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _path_model(request: web.Request) -> str:
    """The model Gemini's path names (`models/{model}:method`); "" for other paths."""
    name = request.match_info.get("name", "")
    if ":" in name:
        return name.rpartition(":")[0].removeprefix("models/").removeprefix("models/")
    return ""


def _error_message(body: bytes) -> str:
    """The message of an error envelope (OpenAI, Anthropic, Gemini or `{"error": msg}`)."""
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return body[:500].decode("utf-8", errors="replace")
    error = decoded.get("error") if isinstance(decoded, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", ""))
    return str(error or "")


def tap(*, stream: bool) -> Tap:
    """What the current request's record learns from the events a handler answers with (a
    tap that notes nothing outside a monitored request)."""
    watched = _CURRENT.get()
    if watched is None:
        return _UNWATCHED
    return Tap(watched[0], watched[1], stream=stream)


class Tap:
    """Notes tokens, first-byte time and a stream's answer from the events the handler passes
    it. A plain call per batch of events, not a layer of async iteration (bench/README.md)."""

    def __init__(self, record: Record, monitor: Monitor, *, stream: bool) -> None:
        self._record = record
        self._monitor = monitor
        self._assembler = Assembler() if stream else None
        self._ended = False
        record.stream = stream
        if stream:
            monitor.active_streams += 1

    def saw(self, events: list[Event]) -> None:
        """The events the handler took together (one call a batch, not one an event)."""
        record, assembler = self._record, self._assembler
        if record.ttfb_ms is None:
            record.ttfb_ms = (time.perf_counter() - record.started) * 1000
        for event in events:
            if assembler is not None:
                assembler.feed(event)
            if isinstance(event, Finish):
                self._ended = True
                usage = event.usage
                record.input_tokens, record.output_tokens = usage.input_tokens, usage.output_tokens
                record.cached_tokens = usage.cached_tokens

    def failed(self, err: GatewayError) -> None:
        """The events ended in an error (the record keeps its status and message)."""
        self._ended = True
        self._record.status, self._record.error = err.status, err.message

    def close(self) -> None:
        """The handler is done with the events: a stream that did not end was abandoned."""
        if self._assembler is not None:
            self._monitor.active_streams -= 1
            self._record.answer = _answer_of(self._assembler)
            self._assembler = None
        if not self._ended:
            self._record.abandoned = True


class _Unwatched(Tap):
    """The tap outside a monitored request (`agm upstreams test`, tests): notes nothing."""

    def __init__(self) -> None:
        pass

    def saw(self, events: list[Event]) -> None:
        pass

    def failed(self, err: GatewayError) -> None:
        pass

    def close(self) -> None:
        pass


_UNWATCHED = _Unwatched()


def _answer_of(assembler: Assembler) -> ChatResponse:
    """What was streamed, also when the stream stopped before its end."""
    if assembler.finish is not None:
        return assembler.result()
    return ChatResponse(id=assembler.id, model=assembler.model, parts=tuple(assembler.parts),
                        finish_reason="error")



