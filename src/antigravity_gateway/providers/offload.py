"""Heavy work on big request bodies runs in a worker thread, so one 30 MB request does not
stall every other request on the event loop.

The server's `read_json` notes each body's size; this sits here, not in server/, so a
provider's upstream encoding can use it too.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import Any, TypeVar

OFFLOAD_BYTES = 256 * 1024  # bodies at least this big are worked on off the event loop
_body_size: contextvars.ContextVar[int] = contextvars.ContextVar("body_size", default=0)
T = TypeVar("T")


def note_body_size(size: int) -> None:
    """Called by the server's `read_json`; a context variable, so it holds per request task."""
    _body_size.set(size)


def is_big_body() -> bool:
    """True while handling a request whose body is big enough to work on in a thread."""
    return _body_size.get() >= OFFLOAD_BYTES


async def off_loop_if_big(work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`work(*args, **kwargs)`, in a worker thread when this request's body is big, else inline
    (a thread hop would only cost the small requests time)."""
    if is_big_body():
        return await asyncio.to_thread(work, *args, **kwargs)
    return work(*args, **kwargs)
