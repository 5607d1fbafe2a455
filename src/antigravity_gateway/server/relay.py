"""Writing a served answer to the client: assembled JSON, or a live SSE relay.

One relay loop for every protocol: it feeds hub events to the protocol's stream encoder, turns
a mid-stream upstream failure into the protocol's in-stream error, and closes the upstream at
once when the client hangs up (so no tokens keep being generated for nobody). On request it
writes the protocol's keep-alive frames while the upstream is silent (Anthropic's `ping`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from aiohttp import web

from ..core.events import Assembler, Event
from ..core.messages import ChatResponse
from ..errors import ClientDisconnected, GatewayError, UpstreamError
from ..providers.base import EventStream
from . import monitoring

log = logging.getLogger(__name__)

SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


class StreamEncoder(Protocol):
    """A protocol's stream encoder: hub events, or a mid-stream error, to frames."""

    def feed(self, event: Event) -> list[bytes]: ...

    def fail(self, err: GatewayError) -> list[bytes]: ...


async def assemble(events: EventStream) -> ChatResponse:
    tap = monitoring.tap(stream=False)
    asm = Assembler()
    try:
        while taken := await events.take():
            for event in taken:
                asm.feed(event)
            tap.saw(taken)
    except GatewayError as err:
        tap.failed(err)
        raise
    finally:
        tap.close()
        await events.aclose()
    return asm.result()


def _encoded(encoder: StreamEncoder, taken: list[Event]) -> bytes:
    """The frames of every event that is here, for one write."""
    frames: list[bytes] = []
    for event in taken:
        frames += encoder.feed(event)
    return b"".join(frames)


async def relay(
    request: web.Request,
    events: EventStream,
    encoder: StreamEncoder,
    headers: dict[str, str],
    *,
    keepalive: Callable[[], list[bytes]] | None = None,
    keepalive_every: float = 10.0,
) -> web.StreamResponse:
    """`keepalive`: frames written whenever the upstream stays silent for `keepalive_every` s."""
    tap = monitoring.tap(stream=True)
    response = web.StreamResponse(headers={**SSE_HEADERS, **headers})
    heartbeat: _Heartbeat | None = None
    try:
        await response.prepare(request)
        heartbeat = _Heartbeat(response, keepalive, keepalive_every) if keepalive else None
        while taken := await events.take():
            if heartbeat is not None:
                heartbeat.beat()
            tap.saw(taken)
            data = _encoded(encoder, taken)
            if events.exhausted:  # the upstream's end came too: the last frames end the answer
                await response.write_eof(data)
                break
            if data:
                await response.write(data)
    except GatewayError as err:
        tap.failed(err)
        log.warning("stream failed after the first byte: %s", err.message)
        await _write_quietly(response, encoder.fail(_as_stream_error(err)))
    except ConnectionError:
        raise ClientDisconnected("the client closed the stream") from None
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        tap.close()
        await events.aclose()
    await _eof_quietly(response)
    return response


class _Heartbeat:
    """Writes keep-alive frames beside the relay loop whenever the upstream has been silent
    for `every` seconds. The loop only notes the time of each event: no task hand-off per
    event (the reader task and queue this replaces cost 12 us per event, bench/README.md).
    Each write is one whole SSE frame, so a ping never lands inside an event."""

    def __init__(
        self, response: web.StreamResponse, frames: Callable[[], list[bytes]], every: float
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._last = self._loop.time()
        self._task = asyncio.create_task(self._run(response, frames, every))

    def beat(self) -> None:
        self._last = self._loop.time()

    def stop(self) -> None:
        # not awaited: the answer may be complete already, and a relay that waited here could
        # see the satisfied client leave (a cancellation) and log a 499 for it
        self._task.cancel()

    async def _run(
        self, response: web.StreamResponse, frames: Callable[[], list[bytes]], every: float
    ) -> None:
        while True:
            await asyncio.sleep(self._last + every - self._loop.time())
            if self._loop.time() - self._last >= every:
                self.beat()
                try:
                    await response.write(b"".join(frames()))
                except ConnectionError:
                    return  # the client left: the relay loop finds out on its next write


def _as_stream_error(err: GatewayError) -> GatewayError:
    if isinstance(err, UpstreamError) and err.upstream_status == 502:
        return UpstreamError(502, err.body, message="the upstream stream broke off: " + err.message)
    return err


async def _write_quietly(response: web.StreamResponse, frames: list[bytes]) -> None:
    with contextlib.suppress(ConnectionError):
        await response.write(b"".join(frames))


async def _eof_quietly(response: web.StreamResponse) -> None:
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
