"""Performance regression check, robust to a loaded machine: CPU time, relative, same test.

The gateway (`agm serve`) and a bare aiohttp relay (tests/e2e/bare_relay.py: the least any
aiohttp gateway must do) serve the same chat completions from the same simulator, sent by the
official openai SDK, interleaved in rounds; each one's CPU time (user + system,
/proc/PID/stat) per request is compared. Not wall time: other jobs on the machine slow both
without changing the CPU either spends. The bound is the issue's 2x (bench/README.md,
"Regression check": 1.36-1.48x measured here in session 8); a regression that adds
per-request work (logging, re-encoding, per-event allocations, back to aiohttp's client)
shows up above it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import openai
import pytest

from tests.e2e.gateway import API_KEY, Gateway, free_port
from tests.fakes.cloudcode import FakeGoogleThread

REQUESTS_PER_ROUND = 150
ROUNDS = 4
BOUND = 2.0  # measured 1.36-1.48x (bench/README.md, "Regression check"); was 2.5, and 3
CHAT = {"model": "gemini-3-flash", "messages": [{"role": "user", "content": "hi"}]}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _load(
    url: str, count: int, concurrency: int = 4, *, stream: bool = False, sdk: bool = False
) -> None:
    """`count` chat completions, `concurrency` at a time; `stream`: asked streamed, read to the
    end (the bare relay answers those unstreamed); `sdk`: sent by the official openai SDK, else
    by aiohttp (a lighter client: bench/ab.py loads more requests a second with it)."""
    left = count

    async def each(send: Callable[[], Awaitable[None]]) -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await send()

    if sdk:
        async with openai.AsyncOpenAI(base_url=url + "/v1", api_key=API_KEY,
                                      max_retries=0) as client:
            async def ask() -> None:
                answer = await client.chat.completions.create(**CHAT)
                assert answer.choices[0].message.content  # an answer with text

            await asyncio.gather(*(each(ask) for _ in range(concurrency)))
        return
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with aiohttp.ClientSession() as session:
        async def post() -> None:
            async with session.post(url + "/v1/chat/completions", headers=headers,
                                    json={**CHAT, "stream": True} if stream else CHAT) as resp:
                assert resp.status == 200, await resp.text()
                assert b'"content":"' in await resp.read()  # an answer with text

        await asyncio.gather(*(each(post) for _ in range(concurrency)))


def cpu_per_request(
    targets: dict[str, tuple[int, str]], *, rounds: int = ROUNDS, stream: bool = False,
    sdk: bool = False,
) -> dict[str, float]:
    """Microseconds of CPU per request of each target process (pid, url), interleaved."""
    used = dict.fromkeys(targets, 0.0)
    for _, url in targets.values():  # warm-up: connections, caches, first-call imports
        asyncio.run(_load(url, 30, stream=stream, sdk=sdk))
    for n in range(rounds):
        for name in sorted(targets, reverse=n % 2 == 1):
            pid, url = targets[name]
            before = cpu_seconds(pid)
            asyncio.run(_load(url, REQUESTS_PER_ROUND, stream=stream, sdk=sdk))
            used[name] += cpu_seconds(pid) - before
    return {name: cpu / (rounds * REQUESTS_PER_ROUND) * 1e6 for name, cpu in used.items()}


def start_relay(fake_url: str, token: str, project: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.bare_relay", "--port", str(port), "--upstream",
         fake_url, "--token", token, "--project", project], text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            asyncio.run(_load(f"http://127.0.0.1:{port}", 1, 1))
            return proc, f"http://127.0.0.1:{port}"
        except aiohttp.ClientConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the bare relay did not start")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc")
def test_gateway_cpu_per_request_stays_near_a_bare_aiohttp_relay(tmp_path: Path) -> None:
    with FakeGoogleThread(max_records=100) as fake:
        gateway = Gateway.start(fake, tmp_path / "gw")
        email = gateway.emails[0]
        token = fake.issue_token(email, lifetime=3600)
        relay, relay_url = start_relay(fake.url("prod"), token, fake.account(email).project)
        try:
            cost = cpu_per_request({"gateway": (gateway.process.pid, gateway.url),
                                     "relay": (relay.pid, relay_url)}, sdk=True)
        finally:
            relay.terminate()
            relay.wait(10)
            gateway.stop()
    ratio = cost["gateway"] / cost["relay"]
    print(f"CPU per request: gateway {cost['gateway']:.0f} us, bare relay {cost['relay']:.0f} us,"
          f" ratio {ratio:.2f}")
    assert ratio <= BOUND, cost
