"""CPU per upstream call of aiohttp's client and of ours (`providers/wire.py`), nothing else.

    python bench/bench_client.py [--calls 20000] [--rounds 3]

A raw uvloop server (core 0) answers every POST with a Cloud Code-like SSE answer of two
chunked events; this process (core 1) makes the calls, 8 at a time, each with a Cloud
Code-sized body and headers, reading the answer to its end. The CPU time of this process per
call is the client's cost: aiohttp's `ClientSession` as the gateway used it (and with a dummy
cookie jar and a prebuilt URL: its cheapest), and `wire.Client`. Rounds alternate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import time
from collections.abc import Awaitable, Callable

import uvloop

EVENT = (b'data: {"response":{"candidates":[{"content":{"role":"model","parts":[{"text":'
         b'"Hello there, how can I help?"}]}}],"usageMetadata":{"promptTokenCount":5}}}\r\n\r\n')
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
          b"\r\n" + b"".join(b"%x\r\n%s\r\n" % (len(EVENT), EVENT) for _ in range(2))
          + b"0\r\n\r\n")
BODY = json.dumps({"model": "gemini-3-flash", "project": "p", "requestId": "agent-" + "a" * 32,
                   "request": {"contents": [{"role": "user", "parts": [{"text": "hi " * 200}]}]}}
                  ).encode()
HEADERS = {"Authorization": "Bearer " + "t" * 150, "Content-Type": "application/json",
           "Accept": "text/event-stream", "User-Agent": "antigravity/1.15.8 linux/amd64"}


class _Server(asyncio.Protocol):
    """Answers each complete request (head and Content-Length body) with ANSWER."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].lower()
            at = head.find(b"content-length: ")
            length = int(head[at + 16:].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            self.transport.write(ANSWER)  # type: ignore[attr-defined]


def _serve(port: int) -> None:
    os.sched_setaffinity(0, {0})

    async def main() -> None:
        await asyncio.get_running_loop().create_server(_Server, "127.0.0.1", port)
        await asyncio.sleep(3600)

    uvloop.run(main())


async def _drive(call: Callable[[], Awaitable[None]], calls: int) -> float:
    """CPU µs per call of this process, 8 calls at a time, after a warm-up."""
    for _ in range(200):
        await call()
    left = calls

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await call()

    before = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(worker() for _ in range(8)))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu / calls * 1e6


async def _aiohttp(url: str, calls: int, cheapest: bool) -> float:
    import aiohttp
    import yarl

    jar = aiohttp.DummyCookieJar() if cheapest else None
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, keepalive_timeout=90)
    async with aiohttp.ClientSession(connector=connector, trust_env=False,
                                     cookie_jar=jar) as session:
        timeout = aiohttp.ClientTimeout(total=600, sock_connect=20)
        target = yarl.URL(url) if cheapest else url

        async def call() -> None:
            resp = await session.request("POST", target, data=BODY, headers=HEADERS,
                                         timeout=timeout)
            while await resp.content.readany():
                pass
            resp.release()

        return await _drive(call, calls)


async def _wire(url: str, calls: int) -> float:
    from antigravity_gateway.providers import wire

    limits = wire.Timeout(total=600, connect=20)
    async with wire.Client() as client:

        async def call() -> None:
            resp = await client.request("POST", url, body=BODY, headers=HEADERS,
                                        timeout=limits)
            while await resp.readany():
                pass
            resp.release()

        return await _drive(call, calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    port = 18931
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    time.sleep(0.5)
    os.sched_setaffinity(0, {1})
    url = f"http://127.0.0.1:{port}/v1internal:streamGenerateContent?alt=sse"
    clients = {
        "aiohttp ClientSession (as the gateway used it)": lambda: _aiohttp(url, args.calls, False),
        "aiohttp, dummy cookie jar, prebuilt URL": lambda: _aiohttp(url, args.calls, True),
        "wire.Client (providers/wire.py)": lambda: _wire(url, args.calls),
    }
    results: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(args.rounds):
        for name, run in clients.items():
            results[name].append(uvloop.run(run()))
    for name, values in results.items():
        print(f"{name:48s} {sorted(values)[len(values) // 2]:6.1f} µs per call "
              f"(rounds: {', '.join(f'{v:.1f}' for v in values)})")
    server.terminate()


if __name__ == "__main__":
    main()
