"""Benchmark: what the gateway adds on top of the upstream, for /v1/chat/completions.

Starts the Google simulator (`python -m tests.fakes.cloudcode`) and `agm serve` as separate
processes, then measures, at concurrency 1 and 32, requests/s and latency p50/p99 of
  direct   - streamGenerateContent on the simulator itself (the floor),
  chat     - non-stream /v1/chat/completions through the gateway,
  stream   - stream /v1/chat/completions through the gateway (until [DONE]).
Run from the repository root: `python bench/bench_gateway.py [--seconds 5]`.
`--compare SRC` also starts a second gateway from another source tree (e.g. an export of an
older commit) against the same simulator and interleaves the two, round after round, so both
see the same machine load; it prints the median of the rounds for each.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.gateway import API_KEY, free_port  # noqa: E402

CHAT = {"model": "gemini-3-flash", "messages": [{"role": "user", "content": "hi"}]}
Call = Callable[[aiohttp.ClientSession], Awaitable[None]]


def start_fake() -> tuple[subprocess.Popen[str], dict]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.cloudcode", "--accounts", "2", "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def start_gateway(
    fake: dict, data_dir: Path, src: str | None = None, extra_config: str = ""
) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    env = {**os.environ, "AGM_DATA_DIR": str(data_dir)}
    if src:  # another source tree of the gateway (its `src` directory) wins over the install
        env["PYTHONPATH"] = src
    config = (
        f'[proxy]\nport = {port}\napi_key = "{API_KEY}"\nauth_mode = "strict"\n'
        f"[upstream]\ncloudcode_base_urls = {json.dumps(fake['cloudcode_base_urls'])}\n"
        f'oauth_token_url = "{fake["token_url"]}"\nuserinfo_url = "{fake["userinfo_url"]}"\n'
        f'oauth_client_secret = "{fake["client_secret"]}"\n' + extra_config
    )
    (data_dir / "config.toml").write_text(config)
    for token in fake["accounts"].values():
        subprocess.run([sys.executable, "-m", "antigravity_gateway", "accounts", "add",
                        "--refresh-token", token], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "antigravity_gateway", "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            try:
                async with session.get(url + "/healthz", headers=_auth()) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}


async def access_token(fake: dict) -> str:
    refresh = next(iter(fake["accounts"].values()))
    form = {"grant_type": "refresh_token", "refresh_token": refresh,
            "client_id": fake["client_id"], "client_secret": fake["client_secret"]}
    async with aiohttp.ClientSession() as session, session.post(fake["token_url"], data=form) as r:
        return str((await r.json())["access_token"])


def direct_call(fake: dict, token: str, project: str) -> Call:
    url = fake["cloudcode_base_urls"][0] + "/v1internal:streamGenerateContent?alt=sse"
    body = {"model": "gemini-3-flash", "project": project, "requestId": "bench",
            "request": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}}
    headers = {"Authorization": f"Bearer {token}"}

    async def call(session: aiohttp.ClientSession) -> None:
        async with session.post(url, json=body, headers=headers) as resp:
            assert resp.status == 200, await resp.text()
            await resp.read()

    return call


def gateway_call(url: str, *, stream: bool) -> Call:
    body = {**CHAT, "stream": stream}

    async def call(session: aiohttp.ClientSession) -> None:
        async with session.post(url + "/v1/chat/completions", json=body, headers=_auth()) as resp:
            assert resp.status == 200, await resp.text()
            data = await resp.read()
            assert not stream or data.rstrip().endswith(b"[DONE]")

    return call


async def measure(call: Call, concurrency: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(10):  # warm-up
            await call(session)
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                await call(session)
                latencies.append(time.perf_counter() - start)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "elapsed": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


async def project_of(data_dir: Path, fake: dict) -> str:
    """The project of the account whose token `access_token` uses (the first one)."""
    refresh = next(iter(fake["accounts"].values()))
    for path in (data_dir / "accounts").glob("*.json"):
        account = json.loads(path.read_text())
        if account["refresh_token"] == refresh:
            return str(account["project_id"])
    raise RuntimeError("the benchmark's account was not enrolled")


async def run(seconds: float) -> None:
    fake_proc, fake = start_fake()
    with tempfile.TemporaryDirectory() as tmp:
        gw_proc, url = start_gateway(fake, Path(tmp))
        try:
            await wait_up(url)
            token = await access_token(fake)
            calls = {
                "direct": direct_call(fake, token, await project_of(Path(tmp), fake)),
                "chat": gateway_call(url, stream=False),
                "stream": gateway_call(url, stream=True),
            }
            print(f"{'target':<8} {'c':>3} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
            for concurrency in (1, 32):
                for name, call in calls.items():
                    r = await measure(call, concurrency, seconds)
                    print(f"{name:<8} {concurrency:>3} {r['rps']:>8.0f} "
                          f"{r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f}", flush=True)
        finally:
            gw_proc.terminate()
            fake_proc.terminate()
            gw_proc.wait()
            fake_proc.wait()


async def compare(seconds: float, src: str, rounds: int) -> None:
    """`before` (the gateway from `src`) and `after` (this tree), interleaved round by round."""
    fake_proc, fake = start_fake()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "b").mkdir()
        (Path(tmp) / "a").mkdir()
        procs = dict(zip(("before", "after"), (start_gateway(fake, Path(tmp) / "b", src),
                                               start_gateway(fake, Path(tmp) / "a")),
                         strict=True))
        try:
            for _, url in procs.values():
                await wait_up(url)
            results: dict[tuple[str, str, int], list[dict[str, float]]] = {}
            for n in range(rounds):
                order = ("before", "after") if n % 2 == 0 else ("after", "before")
                for concurrency in (1, 32):
                    for target in ("chat", "stream"):
                        for label in order:
                            call = gateway_call(procs[label][1], stream=target == "stream")
                            cpu = cpu_seconds(procs[label][0].pid)
                            r = await measure(call, concurrency, seconds)
                            used = cpu_seconds(procs[label][0].pid) - cpu
                            r["cpu_us"] = used / (r["rps"] * r["elapsed"]) * 1e6
                            results.setdefault((target, label, concurrency), []).append(r)
            _print_medians(results)
        finally:
            for proc, _ in procs.values():
                proc.terminate()
                proc.wait()
            fake_proc.terminate()
            fake_proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc): less load-sensitive than
    latency on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _print_medians(results: dict[tuple[str, str, int], list[dict[str, float]]]) -> None:
    print(f"{'target':<8} {'tree':<7} {'c':>3} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'gateway CPU us/req':>19}")
    keys = ("rps", "p50_ms", "p99_ms", "cpu_us")
    for (target, label, concurrency), runs in sorted(results.items(), key=lambda i: (
            i[0][2], i[0][0], i[0][1] != "before")):
        med = {k: statistics.median(r[k] for r in runs) for k in keys}
        print(f"{target:<8} {label:<7} {concurrency:>3} {med['rps']:>8.0f} "
              f"{med['p50_ms']:>8.2f} {med['p99_ms']:>8.2f} {med['cpu_us']:>19.0f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--compare", metavar="SRC", help="another tree's src dir: before/after")
    parser.add_argument("--rounds", type=int, default=5, help="with --compare")
    args = parser.parse_args()
    if args.compare:
        asyncio.run(compare(args.seconds, args.compare, args.rounds))
    else:
        asyncio.run(run(args.seconds))


if __name__ == "__main__":
    main()
