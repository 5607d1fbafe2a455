"""HTTP/1.1 to the upstreams: keep-alive connections per origin, answers parsed by httptools.

aiohttp's client spent ~75 µs of CPU a call in layers an upstream call does not use (cookie
jar, tracing hooks, payload objects, a writer task); this one ~17, and a chat request costs the
gateway 80-100 µs less (bench/README.md, session 7). It tunnels through an HTTP(S) proxy with
CONNECT; every failure is an `OSError`. aiohttp's session keeps the other calls (OAuth, fetches).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import functools
import ssl
import time
from collections.abc import Mapping
from typing import Self, cast
from urllib.parse import unquote, urlsplit

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

from ..core.network import ConnectTimeout, Disconnected, Timeout

__all__ = ["Client", "Response", "Timeout"]

_HIGH_WATER = 1 << 18  # stop reading from the socket while this much waits unread
_KEEP_IDLE = 60.0  # an idle connection older than this is not used again
_USER_AGENT = "User-Agent: antigravity-gateway\r\n"  # when the caller names none
_Key = tuple[str, str, int, str]  # a pool's: scheme, host, port and the proxy ("" for none)


@functools.cache
def _default_tls() -> ssl.SSLContext:
    return ssl.create_default_context()  # ~40 ms: made at the first https call, not at start


@functools.lru_cache(maxsize=512)
def _split(url: str) -> tuple[str, str, int, str, str]:
    """scheme, host, port, request target (path and query) and Host value of an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, target, _netloc(parts.scheme, parts.hostname, port)


def _netloc(scheme: str, host: str, port: int) -> str:
    host = f"[{host}]" if ":" in host else host
    return host if port == (443 if scheme == "https" else 80) else f"{host}:{port}"


class Response:
    """An answer: status and headers at once, the body as it arrives (`readany`, `read`).
    `release()` (or leaving `async with`) gives the connection back when the whole body has
    arrived, and closes it otherwise: that is how a hang-up stops the upstream's work."""

    __slots__ = ("_conn", "headers", "status", "url")

    def __init__(self, conn: _Connection, url: str, status: int, headers: CIMultiDict[str]):
        self._conn: _Connection | None = conn
        self.url = url
        self.status = status
        self.headers = CIMultiDictProxy(headers)

    async def readany(self) -> bytes:
        """What arrived since the last read (waiting for some); b"" once the body has ended."""
        return b"" if self._conn is None else await self._conn.take()

    def at_eof(self) -> bool:
        """The body has ended and all of it was read."""
        return self._conn is None or self._conn.drained

    async def read(self) -> bytes:
        parts = []
        while chunk := await self.readany():
            parts.append(chunk)
        return b"".join(parts)

    def release(self) -> None:
        conn, self._conn = self._conn, None  # once: the connection may serve another call next
        if conn is not None:
            conn.finish()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.release()


class _Connection(asyncio.Protocol):
    """One connection, one call at a time; httptools feeds the answer's body into a buffer."""

    __slots__ = ("_buffered", "_chunks", "_client", "_complete", "_deadline", "_error", "_head",
                 "_headers", "_keep_alive", "_parser", "_paused", "_until_eof", "_waiter",
                 "closed", "idle_since", "key", "transport")

    def __init__(self, client: Client, key: _Key) -> None:
        self._client = client
        self.key = key
        self.transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._head: asyncio.Future[CIMultiDict[str]] | None = None
        self._headers: CIMultiDict[str] = CIMultiDict()
        self._chunks: list[bytes] = []  # a deque's first block is 0.6 KB an open stream
        self._waiter: asyncio.Future[None] | None = None
        self._buffered = 0
        self._paused = False
        self._until_eof = False
        self._complete = False
        self._keep_alive = False
        self._error: OSError | None = None
        self._deadline: asyncio.TimerHandle | None = None
        self.closed = False
        self.idle_since = 0.0  # set when it goes back to the pool

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self._client.opened(self)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(Disconnected(f"unreadable HTTP answer ({exc})"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._client.closed(self)
        if self._until_eof and not self._complete:  # no length given: the end is the answer's
            self.on_message_complete()
        if not self._complete:
            self._fail(Disconnected(str(exc) if exc else "connection closed"))

    # httptools' callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.add(name.decode("latin-1"), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        headers, status = self._headers, self._parser.get_status_code()
        self._until_eof = (status >= 200 and status not in (204, 304)
                           and "content-length" not in headers
                           and "transfer-encoding" not in headers)
        if self._head is not None and not self._head.done():
            self._head.set_result(headers)

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self._complete = True
        self._keep_alive = not self._until_eof and self._parser.should_keep_alive()
        self._wake()

    # the caller's side
    async def send(
        self, request: tuple[bytes, ...], timeout: Timeout
    ) -> tuple[int, CIMultiDict[str]]:
        """Write one request (its head, then any body); its answer's status and headers."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._head = loop.create_future()
        self._headers = CIMultiDict()
        self._complete = self._until_eof = False
        if timeout.total:
            self._deadline = loop.call_later(timeout.total, self._expire)
        # head and body side by side, not joined: joining a 39 MB body held the loop ~20 ms
        # (tests/e2e/test_limits.py); uvloop sends both in one writev
        self.transport.writelines(request)
        headers = await self._head
        return self._parser.get_status_code(), headers

    async def take(self) -> bytes:
        while not self._chunks:
            if self._error is not None:
                raise self._error
            if self._complete:
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._drop_buffer()
        return data

    @property
    def reused(self) -> bool:
        """It served a call before this one (it came from the pool)."""
        return self.idle_since > 0

    @property
    def drained(self) -> bool:
        return self._complete and not self._chunks

    def finish(self) -> None:
        """The caller is done: back to the pool if the answer arrived whole, else closed."""
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self._drop_buffer()
        if self._complete and self._keep_alive and self._error is None and not self.closed:
            self.idle_since = time.monotonic()
            self._client.give_back(self)
        else:
            self.close()

    def _drop_buffer(self) -> None:
        """Taken or not wanted: the socket may be read again."""
        self._chunks.clear()
        self._buffered = 0
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()

    def tunnelled(self, transport: asyncio.BaseTransport) -> None:
        """The proxy's tunnel is up and TLS runs over it: the host's answers come next."""
        self.transport = cast(asyncio.Transport, transport)
        self._parser = httptools.HttpResponseParser(self)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _expire(self) -> None:
        self._fail(TimeoutError("the call's time limit passed"))
        self.close()

    def _fail(self, exc: OSError) -> None:
        self._error = self._error or exc
        if self._head is not None and not self._head.done():
            self._head.set_exception(exc)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        self._waiter = None


class Client:
    """Keep-alive connections per origin (and proxy), for every upstream call."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self._tls = tls
        self._idle: dict[_Key, collections.deque[_Connection]] = {}
        self._open: set[_Connection] = set()

    async def request(
        self, method: str, url: str, *, body: bytes | None, headers: Mapping[str, str],
        timeout: Timeout, proxy: str | None = None,
    ) -> Response:
        """Send one call and wait for its answer's head (the body follows in `Response`).

        A kept-alive connection the host closed meanwhile (the call never reached it) is left
        for another one."""
        scheme, host, port, target, netloc = _split(url)
        plain_proxy = bool(proxy) and scheme == "http"  # an http URL goes to the proxy itself
        head = _head(method, url if plain_proxy else target, netloc, headers, body,
                     proxy if plain_proxy else None)
        request = (head, body) if body else (head,)
        key = (scheme, host, port, proxy or "")
        while True:
            conn = await self._connection(key, timeout)
            try:
                status, got = await conn.send(request, timeout)
            except Disconnected:
                conn.finish()
                if conn.reused:
                    continue
                raise
            except BaseException:
                conn.finish()
                raise
            return Response(conn, url, status, got)

    async def _connection(self, key: _Key, timeout: Timeout) -> _Connection:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < _KEEP_IDLE:
                return conn
            conn.close()
        try:
            async with asyncio.timeout(timeout.connect):
                return await self._connect(key)
        except TimeoutError as exc:
            raise ConnectTimeout(f"no connection to {key[1]}:{key[2]}") from exc

    async def _connect(self, key: _Key) -> _Connection:
        scheme, host, port, proxy = key
        tls = (self._tls or _default_tls()) if scheme == "https" else None
        if not proxy:
            return await self._open_to(key, host, port, tls)
        p_scheme, p_host, p_port, _, _ = _split(proxy)
        p_tls = (self._tls or _default_tls()) if p_scheme == "https" else None
        conn = await self._open_to(key, p_host, p_port, p_tls)
        if tls is not None:
            await self._tunnel(conn, tls, host, port, proxy)
        return conn

    async def _open_to(
        self, key: _Key, host: str, port: int, tls: ssl.SSLContext | None
    ) -> _Connection:
        loop = asyncio.get_running_loop()
        _, conn = await loop.create_connection(
            lambda: _Connection(self, key), host, port, ssl=tls,
            server_hostname=host if tls else None)
        return conn

    async def _tunnel(
        self, conn: _Connection, tls: ssl.SSLContext, host: str, port: int, proxy: str
    ) -> None:
        """CONNECT through the proxy, then TLS with the host inside the tunnel."""
        netloc = _netloc("https", host, port)
        connect = f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {netloc}\r\n{_proxy_auth(proxy)}\r\n"
        try:
            status, _ = await conn.send((connect.encode("latin-1"),), Timeout())
            if status != 200:
                raise Disconnected(f"the proxy refused the tunnel to {netloc}: HTTP {status}")
            assert conn.transport is not None
            loop = asyncio.get_running_loop()
            inner = await loop.start_tls(conn.transport, conn, tls, server_hostname=host)
            assert inner is not None
            conn.tunnelled(inner)
        except BaseException:
            conn.close()
            raise

    def give_back(self, conn: _Connection) -> None:
        idle = self._idle.setdefault(conn.key, collections.deque())
        idle.append(conn)
        while idle[0].closed:  # those the hosts closed meanwhile (idle[-1] is open)
            idle.popleft()

    def opened(self, conn: _Connection) -> None:
        self._open.add(conn)

    def closed(self, conn: _Connection) -> None:
        self._open.discard(conn)

    async def close(self) -> None:
        """Close every connection, idle or not."""
        for conn in list(self._open):
            conn.close()
        self._idle.clear()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


def _head(
    method: str, target: str, netloc: str, headers: Mapping[str, str], body: bytes | None,
    proxy: str | None,
) -> bytes:
    # identity: without the header a host may compress the answer as it likes (RFC 9110 12.5.3)
    lines = [f"{method} {target} HTTP/1.1\r\nHost: {netloc}\r\nAccept-Encoding: identity\r\n"]
    if "User-Agent" not in headers:
        lines.append(_USER_AGENT)
    for name, value in headers.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"a line break in the value of header {name}")
        lines.append(f"{name}: {value}\r\n")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}\r\n")
    if proxy:
        lines.append(_proxy_auth(proxy))
    lines.append("\r\n")
    return "".join(lines).encode("latin-1")


def _proxy_auth(proxy: str) -> str:
    parts = urlsplit(proxy)
    if parts.username is None:
        return ""
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return f"Proxy-Authorization: Basic {base64.b64encode(pair).decode()}\r\n"
