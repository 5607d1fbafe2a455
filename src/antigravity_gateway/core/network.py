"""Network failures in words, and a notice when a remote host keeps us waiting.

`describe` turns an aiohttp/OS exception (or the upstream client's, defined here) into one line
such as "DNS lookup failed for HOST". `waiting_for` calls the notifier a command line installed
(`notify_waits`) when a call takes longer than `NOTICE_SECONDS`; without one (the server) it
costs a context-variable read.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp

NOTICE_SECONDS = 2.0  # first "waiting for HOST..." after this long
REPEAT_SECONDS = 10.0  # then "still waiting" this often
Notifier = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Timeout:
    """A call's time limits in seconds: `total` from sending to the answer's end, `connect`
    for reaching the host (None: no limit)."""

    total: float | None = None
    connect: float | None = None


class ConnectTimeout(TimeoutError):
    """No connection to the host within the connect time limit."""


class Disconnected(ConnectionError):
    """The host closed the connection, or sent what is not HTTP, before the answer ended."""

_notifier: contextvars.ContextVar[Notifier | None] = contextvars.ContextVar(
    "wait_notifier", default=None)


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def describe(
    exc: BaseException, url: str, timeout: aiohttp.ClientTimeout | Timeout | None = None
) -> str:
    """What went wrong reaching `url`, in words, naming its host."""
    host = host_of(url)
    match exc:
        case aiohttp.ClientConnectorDNSError() | socket.gaierror():
            return f"DNS lookup failed for {urlsplit(url).hostname or host} (no such host?)"
        case aiohttp.ClientConnectorCertificateError() | aiohttp.ClientSSLError() | ssl.SSLError():
            return f"TLS error with {host}: {_reason(exc)}"
        case ConnectionRefusedError() | aiohttp.ClientConnectorError(
            os_error=ConnectionRefusedError()
        ):
            return f"connection refused by {host} (nothing listens there)"
        case aiohttp.ConnectionTimeoutError() | ConnectTimeout():
            return f"timed out after {_seconds(timeout, connect=True)} connecting to {host}"
        case aiohttp.ServerTimeoutError() | TimeoutError():
            return f"timed out after {_seconds(timeout, connect=False)} waiting for {host}"
        case aiohttp.ServerDisconnectedError() | Disconnected():
            return f"{host} closed the connection without answering"
        case aiohttp.ClientConnectorError():
            return f"cannot connect to {host}: {_reason(exc.os_error)}"
    return f"network error with {host}: {_reason(exc)}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _seconds(timeout: aiohttp.ClientTimeout | Timeout | None, *, connect: bool) -> str:
    match timeout:
        case Timeout():
            value = timeout.connect if connect else timeout.total
        case aiohttp.ClientTimeout():
            value = (timeout.sock_connect or timeout.connect) if connect else None
            value = value or timeout.sock_read or timeout.total
        case None:
            value = None
    return f"{value:g} s" if value else "the time limit"


@contextlib.contextmanager
def notify_waits(notifier: Notifier) -> Iterator[None]:
    """Within this block, long calls report `notifier("waiting for HOST...")`."""
    token = _notifier.set(notifier)
    try:
        yield
    finally:
        _notifier.reset(token)


def waiting_for(url: str) -> contextlib.AbstractAsyncContextManager[None]:
    """Wrap one remote call: the notifier hears about it when it takes long (no notifier, as
    under `agm serve`: a shared do-nothing context, 1.6 us cheaper per upstream call)."""
    notifier = _notifier.get()
    return _NOTHING if notifier is None else _announcing(notifier, url)


_NOTHING: contextlib.AbstractAsyncContextManager[None] = contextlib.nullcontext()


@contextlib.asynccontextmanager
async def _announcing(notifier: Notifier, url: str) -> AsyncIterator[None]:
    task = asyncio.create_task(_announce(notifier, host_of(url)))
    try:
        yield
    finally:
        task.cancel()


async def _announce(notifier: Notifier, host: str) -> None:
    started = time.monotonic()
    await asyncio.sleep(NOTICE_SECONDS)
    notifier(f"waiting for {host}...")
    while True:
        await asyncio.sleep(REPEAT_SECONDS)
        notifier(f"still waiting for {host} ({time.monotonic() - started:.0f} s)...")
