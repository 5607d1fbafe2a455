"""Noticing that an MCP client hung up, so its upstream stream or session work stops at once.

aiohttp does not cancel a handler when its client disconnects (unless the runner asks it to), and
a silent SSE stream never writes, so nothing would fail: `cancel_on_hangup` watches the
connection and cancels the work as soon as the transport is gone, or when `closing` is set
(the gateway is stopping: an endless GET stream must not hold up the shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")
POLL_SECONDS = 0.25


def client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def until_client_gone(request: web.Request, closing: asyncio.Event | None = None) -> None:
    while not client_gone(request) and not (closing and closing.is_set()):
        await asyncio.sleep(POLL_SECONDS)


async def cancel_on_hangup(
    request: web.Request, work: Coroutine[Any, Any, T], closing: asyncio.Event | None = None
) -> T | None:
    """`work`'s result, or None when the client hung up first (then `work` is cancelled)."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(until_client_gone(request, closing))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (watcher, task):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending
    return task.result() if not task.cancelled() else None
