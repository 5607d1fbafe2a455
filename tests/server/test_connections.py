"""The runner's connection rules with short timers: an idle keep-alive connection and a
slowloris that never finishes its headers are both closed after the keep-alive timeout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from antigravity_gateway.runner import SERVER_LIMITS
from antigravity_gateway.server.connections import GuardedRunner

TIMEOUT = 0.4


async def hello(_: web.Request) -> web.Response:
    return web.Response(text="hi")


@pytest.fixture
async def port(unused_tcp_port: int) -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_get("/", hello)
    runner = GuardedRunner(app, max_connections=100, keepalive_timeout=TIMEOUT,
                           handler_cancellation=True, **SERVER_LIMITS)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    yield unused_tcp_port
    await runner.cleanup()


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    with contextlib.suppress(ConnectionError):
        while await asyncio.wait_for(reader.read(4096), seconds):
            pass
    return True


async def test_idle_keep_alive_connection_is_closed(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert (await reader.readuntil(b"hi")).startswith(b"HTTP/1.1 200")
    assert await _closed_within(reader, TIMEOUT * 5)
    writer.close()


async def test_slowloris_headers_are_cut_off(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")

    async def trickle() -> None:
        with contextlib.suppress(ConnectionError):
            for i in range(100):
                writer.write(b"X-Slow-%d: 1\r\n" % i)
                await writer.drain()
                await asyncio.sleep(TIMEOUT / 4)

    task = asyncio.create_task(trickle())
    started = asyncio.get_running_loop().time()
    assert await _closed_within(reader, TIMEOUT * 10)
    assert asyncio.get_running_loop().time() - started < TIMEOUT * 5
    task.cancel()
    writer.close()


async def test_too_many_headers_is_a_400(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = b"".join(b"X-H-%d: 1\r\n" % i for i in range(SERVER_LIMITS["max_headers"] + 5))
    writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + lines + b"\r\n")
    assert b" 400 " in (await reader.read(4096)).split(b"\r\n")[0]
    writer.close()


async def test_a_body_that_trickles_in_is_cut_off(aiohttp_client, tmp_path, monkeypatch) -> None:
    from antigravity_gateway.app import build_app
    from antigravity_gateway.server import context

    from .helpers import settings_with

    monkeypatch.setattr(context, "BODY_SECONDS", TIMEOUT)
    client = await aiohttp_client(build_app(settings_with(), tmp_path))
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
    answer = await asyncio.wait_for(reader.read(4096), TIMEOUT * 10)
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"did not arrive" in answer
    writer.close()
