"""The runner's connection rules with short timers: an idle keep-alive connection and a
slowloris that never finishes its headers are both closed after the keep-alive timeout; a body
that trickles in is cut off; a hang-up is a 499 the outer middlewares see."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from antigravity_gateway.app import build_app
from antigravity_gateway.runner import SERVER_LIMITS
from antigravity_gateway.server import context
from antigravity_gateway.server.connections import GuardedRunner
from tests.fakes import Reply, delay, text

from .helpers import seed_account, settings_with

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
    monkeypatch.setattr(context, "BODY_SECONDS", TIMEOUT)
    client = await aiohttp_client(build_app(settings_with(), tmp_path))
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
    answer = await asyncio.wait_for(reader.read(4096), TIMEOUT * 10)
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"did not arrive" in answer
    writer.close()


async def test_a_hang_up_is_a_499_that_outer_layers_see(fake_google, tmp_path, unused_tcp_port):
    """What the monitor records: the cancelled request comes out of the middlewares as 499."""
    fake_google.add_account("a@example.com", refresh_token="rt-a")
    seed_account(tmp_path, "a@example.com", refresh_token="rt-a",
                 access_token=fake_google.issue_token("a@example.com", 3600),
                 project=fake_google.account("a@example.com").project)
    app = build_app(settings_with(upstream={
        "cloudcode_base_urls": fake_google.cloudcode_base_urls}), tmp_path)
    seen: list[int] = []

    @web.middleware
    async def outermost(request: web.Request, handler):  # type: ignore[no-untyped-def]
        response = await handler(request)
        seen.append(response.status)
        return response

    app.middlewares.insert(0, outermost)
    runner = GuardedRunner(app, max_connections=100, handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
    try:
        fake_google.script(Reply(text("slow", chunks=3), delay(between_chunks=5.0)))
        reader, writer = await asyncio.open_connection("127.0.0.1", unused_tcp_port)
        raw = b'{"model":"gemini-3-flash","messages":[{"role":"user","content":"hi"}]}'
        writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(raw)
                     + raw)
        while not fake_google.calls("streamGenerateContent"):
            await asyncio.sleep(0.01)
        writer.close()
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.01)
        assert seen == [499]
    finally:
        await runner.cleanup()
