"""Measurements of `bench/run.py`: throughput/latency/CPU cells, memory, hang-ups, CLI start-up.

The load generator is aiohttp in the bench process (pinned to core 0 with the simulator), or
the official openai SDK for the workloads that name it (a real client's requests), or aiohttp
replaying the SDK's own headers and body bytes (a real client's requests at a rate that
saturates the proxy, which the SDK's own CPU on core 0 cannot). CPU
per request is the proxy process's user+system time from /proc over the cell, divided by the
requests completed: what the ratios use, since the simulator and the load generator cap req/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import statistics
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import openai
from procs import API_KEY, Proc
from workloads import Request, slow

HEADERS = {"Authorization": f"Bearer {API_KEY}", "x-api-key": API_KEY}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q) - 1))] * 1000


async def one(session: aiohttp.ClientSession, url: str, req: Request,
              wire: tuple[dict[str, str], bytes] | None = None) -> tuple[float, float]:
    """(TTFB, total) seconds of one request, its answer read to the end and checked. `wire`:
    the headers and body to send as they are (a real client's, captured by `captured`)."""
    headers, data = wire or (HEADERS, None)
    start = time.perf_counter()
    async with session.post(url + req.path, json=None if data else req.body, data=data,
                            headers=headers) as resp:
        first = await resp.content.readany()
        ttfb = time.perf_counter() - start
        rest = await resp.read()
        if resp.status != 200 or req.end not in (first + rest)[-4096:]:
            raise RuntimeError(f"{url}{req.path}: {resp.status} {(first + rest)[:300]!r}")
    return ttfb, time.perf_counter() - start


async def one_sdk(client: openai.AsyncOpenAI, req: Request) -> tuple[float, float]:
    """As `one`, sent by the official openai SDK (its headers, its JSON and SSE parsing)."""
    start = time.perf_counter()
    if not req.stream:
        answer = await client.chat.completions.create(**req.body)
        if not answer.choices or answer.choices[0].finish_reason != "stop":
            raise RuntimeError(f"{client.base_url}: unexpected answer {answer!r:.300}")
        total = time.perf_counter() - start
        return total, total
    ttfb, finish = 0.0, None
    async for chunk in await client.chat.completions.create(**req.body):
        ttfb = ttfb or time.perf_counter() - start
        finish = next((c.finish_reason for c in chunk.choices if c.finish_reason), finish)
    if finish != "stop":
        raise RuntimeError(f"{client.base_url}: the stream ended without finish_reason stop")
    return ttfb, time.perf_counter() - start


async def captured(url: str, req: Request) -> tuple[dict[str, str], bytes]:
    """The headers and body the official openai SDK sends for `req` (one request to `url`),
    less those the replaying connection sets itself."""
    async with openai.AsyncOpenAI(base_url=url + "/v1", api_key=API_KEY,
                                  max_retries=0) as client:
        raw = await client.chat.completions.with_raw_response.create(**req.body)
        sent = raw.http_request
        await raw.http_response.aread()
    own = {"host", "content-length", "connection"}
    return {k: v for k, v in sent.headers.items() if k.lower() not in own}, sent.content


Send = Callable[[], Awaitable[tuple[float, float]]]


@contextlib.asynccontextmanager
async def sender(url: str, req: Request) -> AsyncIterator[Send]:
    """`send()` -> (TTFB, total) of one `req` to `url`, by the client the request names."""
    if req.client == "openai-sdk":
        async with openai.AsyncOpenAI(base_url=url + "/v1", api_key=API_KEY,
                                      max_retries=0) as client:
            yield functools.partial(one_sdk, client, req)
    else:
        wire = await captured(url, req) if req.client == "openai-sdk-bytes" else None
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            yield functools.partial(one, session, url, req, wire)


@dataclass
class Slice:
    """One stretch of load on one target, before the stretches of a cell are summed."""

    totals: list[float] = field(default_factory=list)
    ttfbs: list[float] = field(default_factory=list)
    cpu: float | None = None  # seconds of the proxy's CPU (None: no process to read)
    client_cpu: float = 0.0  # seconds of the load generator's CPU (this process, on core 0)
    elapsed: float = 0.0
    load: float = 0.0


async def load_slice(proc: Proc | None, send: Send, concurrency: int, seconds: float) -> Slice:
    """`concurrency` workers sending for `seconds`; the proxy's CPU read before and after."""
    got = Slice(load=os.getloadavg()[0])
    cpu0 = proc.cpu() if proc else 0.0
    client_cpu0 = time.process_time()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            ttfb, total = await send()
            got.ttfbs.append(ttfb)
            got.totals.append(total)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    got.elapsed = time.perf_counter() - began
    got.cpu = (proc.cpu() - cpu0) if proc else None
    got.client_cpu = time.process_time() - client_cpu0
    return got


def summary(slices: list[Slice], concurrency: int, stream: bool) -> dict[str, Any]:
    """req/s, p50/p99, TTFB p50 and CPU us/request of a cell's slices taken together."""
    totals = [t for s in slices for t in s.totals]
    ttfbs = [t for s in slices for t in s.ttfbs]
    cpus = [s.cpu for s in slices if s.cpu is not None]
    n = len(totals)
    return {"c": concurrency, "requests": n, "rps": n / sum(s.elapsed for s in slices),
            "p50_ms": _pct(totals, 0.5), "p99_ms": _pct(totals, 0.99),
            "ttfb_p50_ms": _pct(ttfbs, 0.5) if stream else None,
            "cpu_us": sum(cpus) / n * 1e6 if cpus and n else None,
            "client_cpu_us": sum(s.client_cpu for s in slices) / n * 1e6 if n else None,
            "load": statistics.fmean(s.load for s in slices)}


async def warm(send: Send, requests: int = 5) -> None:
    for _ in range(requests):
        await send()


async def cell(proc: Proc | None, url: str, req: Request, concurrency: int,
               seconds: float) -> dict[str, Any]:
    """One target x workload x concurrency: req/s, p50/p99, TTFB p50, CPU us/request."""
    async with sender(url, req) as send:
        await warm(send)
        got = await load_slice(proc, send, concurrency, seconds)
    return summary([got], concurrency, req.stream)


async def open_streams(proc: Proc, url: str, count: int, tag: str) -> dict[str, Any]:
    """RSS of `proc` with `count` slow streams open at once (first event received by each)."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        for n in range(20):  # warm the paths so the baseline includes steady-state buffers
            await one(session, url, slow_done(n))
        await asyncio.sleep(0.5)
        before = proc.rss()
        responses = await asyncio.gather(*(_first(session, url, slow("openai", f"{tag}{n}",
                                                                        1000, True))
                                           for n in range(count)))
        during = proc.rss()
        for resp in responses:
            resp.close()
    return {"streams": count, "rss_before_mb": before / 2**20, "rss_open_mb": during / 2**20,
            "kb_per_stream": (during - before) / count / 1024, "load": os.getloadavg()[0]}


async def open_waiting(proc: Proc, url: str, count: int, tag: str,
                       settle: float = 3.0) -> dict[str, Any]:
    """RSS of `proc` with `count` requests open on slow upstreams, for a proxy that answers
    only at the end (the bare relay): no first byte to wait for, so `settle` seconds instead."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.sleep(0.5)
        before = proc.rss()
        waiting = [asyncio.create_task(one(session, url, slow("openai", f"{tag}{n}", 1000,
                                                               False)))
                   for n in range(count)]
        await asyncio.sleep(settle)
        during = proc.rss()
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
    return {"streams": count, "rss_before_mb": before / 2**20, "rss_open_mb": during / 2**20,
            "kb_per_stream": (during - before) / count / 1024, "load": os.getloadavg()[0]}


def slow_done(n: int) -> Request:
    from workloads import openai
    return openai([{"role": "user", "content": f"warm {n}"}], True)


async def _first(session: aiohttp.ClientSession, url: str,
                 req: Request) -> aiohttp.ClientResponse:
    resp = await session.post(url + req.path, json=req.body, headers=HEADERS)
    await resp.content.readany()
    return resp


async def leak(proc: Proc, url: str, req: Request, total: int, seconds: float,
               concurrency: int = 16) -> dict[str, Any]:
    """RSS sampled every 1,000 requests over up to `total` requests (bounded by `seconds`)."""
    samples: list[tuple[int, float]] = []
    done = 0
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async def worker() -> None:
            nonlocal done
            while done < total and time.perf_counter() < deadline:
                await one(session, url, req)
                done += 1
                if done % 1000 == 0:
                    samples.append((done, proc.rss() / 2**20))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    at = dict(samples)
    base = at.get(10_000) or (samples[len(samples) // 10][1] if samples else 0)
    last = samples[-1][1] if samples else 0
    return {"requests": done, "samples_mb": samples, "rss_10k_mb": base, "rss_end_mb": last,
            "drift_pct": (last - base) / base * 100 if base else None,
            "load": os.getloadavg()[0]}


async def _sim_state(sim_url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s, s.get(sim_url + "/bench/state") as r:
        return dict(await r.json())


async def hangup(url: str, sim_url: str, protocol: str, stream: bool,
                 tag: str) -> float | None:
    """ms from the client closing its connection to the simulator seeing upstream closed."""
    req = slow(protocol, tag, 5, stream)
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        task = asyncio.ensure_future(session.post(url + req.path, json=req.body,
                                                  headers=HEADERS))
        for _ in range(400):  # until the upstream stream is open and has sent something
            if tag in (await _sim_state(sim_url))["opened"]:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)
        hung_up = time.monotonic()
        task.cancel()  # non-stream: still waiting for headers; stream: reading
        if task.done() and not task.cancelled() and task.exception() is None:
            task.result().close()
        for _ in range(300):
            closed = (await _sim_state(sim_url))["closed"].get(tag)
            if closed is not None:
                return max(0.0, (closed - hung_up) * 1000)
            await asyncio.sleep(0.005)
    return None


async def orphans(url: str, sim_url: str, count: int, tag: str) -> dict[str, Any]:
    """Open `count` slow streams, hang up all of them, count upstream streams still open."""
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        responses = await asyncio.gather(*(_first(session, url, slow("openai", f"{tag}{n}",
                                                                        50, True))
                                           for n in range(count)))
        for resp in responses:
            resp.close()
    await asyncio.sleep(2.0)
    state = await _sim_state(sim_url)
    still = [k for k in state["opened"] if k.startswith(tag) and k not in state["closed"]]
    return {"streams": count, "open_after_2s": len(still)}


def cli_startup(agm: str, env: dict[str, str], runs: int = 7) -> dict[str, float]:
    """Median wall ms of `agm --help` and `agm accounts list` (cold interpreter each time)."""
    out: dict[str, float] = {}
    for label, argv in (("agm --help", [agm, "--help"]),
                        ("agm accounts list", [agm, "accounts", "list"])):
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(argv, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - start)
        out[label] = statistics.median(times) * 1000
    out["load"] = os.getloadavg()[0]
    return out
