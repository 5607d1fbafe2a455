"""Benchmark: `agm serve --workers N` with the Redis state store (issue #18).

Starts the Google simulator, a redis-server on a free port, and `agm serve` in three setups:
memory backend, 1 process (the default); redis, 1 worker; redis, 2 workers. Each serves
non-stream /v1/chat/completions at concurrency 1 and 32, every request a new conversation
(so every request binds a session: the write-heaviest case). Redis round trips per request =
the store's own counter (`agm:round_trips`, one per pipelined flush) / requests; commands
per request from `INFO stats`. Run from the repository root: `python bench/bench_workers.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_gateway as base  # noqa: E402
from tests.e2e.gateway import free_port  # noqa: E402

SETUPS = (("memory", 1), ("redis", 1), ("redis", 2))


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
         "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    return proc, port


def redis_cli(port: int, *args: str) -> str:
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                          text=True, check=True).stdout


def redis_counts(port: int) -> tuple[int, int]:
    """(round trips the stores counted, commands Redis processed)."""
    trips = int(redis_cli(port, "GET", "agm:round_trips").strip() or 0)
    stats = dict(line.split(":", 1) for line in redis_cli(port, "INFO", "stats").split()
                 if ":" in line)
    return trips, int(stats["total_commands_processed"])


def serve(fake: dict, data_dir: Path, backend: str, workers: int, redis_port: int) -> tuple[
        subprocess.Popen[str], str]:
    """`agm serve` via bench_gateway's setup, then restarted with the state settings."""
    proc, url = base.start_gateway(fake, data_dir)
    proc.terminate()
    proc.wait()
    with (data_dir / "config.toml").open("a") as config:
        config.write(f'[state]\nbackend = "{backend}"\n'
                     f'redis_url = "redis://127.0.0.1:{redis_port}/0"\n')
    env = {**os.environ, "AGM_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "antigravity_gateway", "serve", "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    return proc, url


def new_conversations(url: str) -> base.Call:
    counter = itertools.count()

    async def call(session: aiohttp.ClientSession) -> None:
        body = {**base.CHAT, "messages": [{"role": "user", "content": f"hi {next(counter)}"}]}
        async with session.post(url + "/v1/chat/completions", json=body,
                                headers=base._auth()) as resp:
            assert resp.status == 200, await resp.text()
            await resp.read()

    return call


async def run(seconds: float) -> None:
    fake_proc, fake = base.start_fake()
    print(f"{'backend':<7} {'workers':>7} {'c':>3} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'trips/req':>9} {'cmds/req':>8}")
    try:
        for (backend, workers), concurrency in itertools.product(SETUPS, (1, 32)):
            await one(fake, backend, workers, concurrency, seconds)
    finally:
        fake_proc.terminate()
        fake_proc.wait()


async def one(fake: dict, backend: str, workers: int, concurrency: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        redis_proc, port = start_redis(Path(tmp))
        data_dir = Path(tmp) / "agm"
        data_dir.mkdir()
        proc, url = serve(fake, data_dir, backend, workers, port)
        try:
            await base.wait_up(url)
            await asyncio.sleep(1.0)  # every worker is up
            before = redis_counts(port)
            result = await base.measure(new_conversations(url), concurrency, seconds)
            after = redis_counts(port)
            requests = result["rps"] * seconds + 10  # + the warm-up
            trips, cmds = ((a - b) / requests for a, b in zip(after, before, strict=True))
            print(f"{backend:<7} {workers:>7} {concurrency:>3} {result['rps']:>7.0f} "
                  f"{result['p50_ms']:>7.2f} {result['p99_ms']:>7.2f} {trips:>9.2f} "
                  f"{cmds:>8.2f}", flush=True)
        finally:
            proc.terminate()
            proc.wait()
            redis_proc.terminate()
            redis_proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    asyncio.run(run(parser.parse_args().seconds))


if __name__ == "__main__":
    main()
