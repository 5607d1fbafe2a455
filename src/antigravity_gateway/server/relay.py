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
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from aiohttp import web

from ..core.events import Assembler, Event
from ..core.messages import ChatResponse
from ..errors import ClientDisconnected, GatewayError, UpstreamError
from . import monitoring

log = logging.getLogger(__name__)

SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}


class StreamEncoder(Protocol):
    def feed(self, event: Event) -> list[bytes]: ...

    def fail(self, err: GatewayError) -> list[bytes]: ...


async def assemble(events: AsyncIterator[Event]) -> ChatResponse:
    events = monitoring.watch(events, stream=False)
    asm = Assembler()
    try:
        async for event in events:
            asm.feed(event)
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    return asm.result()


async def relay(
    request: web.Request,
    events: AsyncIterator[Event],
    encoder: StreamEncoder,
    headers: dict[str, str],
    *,
    keepalive: Callable[[], list[bytes]] | None = None,
    keepalive_every: float = 10.0,
) -> web.StreamResponse:
    """`keepalive`: frames written whenever the upstream stays silent for `keepalive_every` s."""
    events = monitoring.watch(events, stream=True)
    response = web.StreamResponse(headers={**SSE_HEADERS, **headers})
    await response.prepare(request)
    source = events if keepalive is None else _ticks(events, keepalive_every)
    try:
        async for item in source:
            frames = encoder.feed(item) if item is not None else keepalive() if keepalive else []
            if frames:
                await response.write(b"".join(frames))
    except GatewayError as err:
        log.warning("stream failed after the first byte: %s", err.message)
        await _write_quietly(response, encoder.fail(_as_stream_error(err)))
    except ConnectionError:
        raise ClientDisconnected("the client closed the stream") from None
    finally:
        if source is not events:
            await source.aclose()  # type: ignore[attr-defined]
        await events.aclose()  # type: ignore[attr-defined]
    await _eof_quietly(response)
    return response


async def _ticks(events: AsyncIterator[Event], every: float) -> AsyncIterator[Event | None]:
    """`events`, with a None (a keep-alive tick) after each `every` seconds without one.

    One reader task per stream feeds a one-slot queue and each wait is bounded by
    `asyncio.timeout`, instead of a task and an `asyncio.wait` per event: 15 -> 12 us of CPU per
    event (bench/README.md, "Keep-alive ticks")."""
    queue: asyncio.Queue[Event | Exception | None] = asyncio.Queue(maxsize=1)
    reader = asyncio.create_task(_pump(events, queue))
    try:
        while True:
            try:
                async with asyncio.timeout(every):
                    item = await queue.get()
            except TimeoutError:
                yield None
                continue
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item
    finally:  # the client left, or the stream ended: stop the upstream read first
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


async def _pump(
    events: AsyncIterator[Event], queue: asyncio.Queue[Event | Exception | None]
) -> None:
    """Every upstream event into `queue`, then None; an upstream error is handed over as is."""
    try:
        async for event in events:
            await queue.put(event)
    except Exception as exc:  # raised again on the relay's side, where it is rendered
        await queue.put(exc)
        return
    await queue.put(None)


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
