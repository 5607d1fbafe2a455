"""Benchmark: what the request monitor costs, measured side by side with it on and off.

Starts the Google simulator and two `agm serve` processes that differ only in
`monitor.enabled`, then measures the bench's chat workload (non-stream and stream
/v1/chat/completions) on each in alternation, `--rounds` times, and prints the medians and the
difference. Besides req/s and latency (which a shared machine makes noisy) it reports the
gateway process's CPU time per request (user + system, from /proc), the figure that bounds
throughput on a CPU-bound box.
Run from the repository root: `python bench/bench_monitor.py [--seconds 5] [--rounds 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gateway import (  # noqa: E402
    CHAT,
    Call,
    cpu_seconds,
    gateway_call,
    measure,
    start_fake,
    start_gateway,
    wait_up,
)

CONFIGS = {"on": "[monitor]\nenabled = true\n", "off": "[monitor]\nenabled = false\n"}


async def run(seconds: float, rounds: int) -> None:
    fake_proc, fake = start_fake()
    procs = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            urls, pids = {}, {}
            for name, extra in CONFIGS.items():
                data_dir = Path(tmp) / name
                data_dir.mkdir()
                proc, urls[name] = start_gateway(fake, data_dir, extra_config=extra)
                procs.append(proc)
                pids[name] = proc.pid
                await wait_up(urls[name])
            results: dict[tuple[str, str, int], list[dict[str, float]]] = {}
            for _ in range(rounds):
                for concurrency in (1, 32):
                    for target in ("chat", "stream"):
                        for name, url in urls.items():
                            call = gateway_call(url, stream=target == "stream")
                            key = (target, name, concurrency)
                            results.setdefault(key, []).append(
                                await measure_cpu(pids[name], call, concurrency, seconds))
            report(results)
            with sqlite3.connect(Path(tmp) / "on" / "monitor.db") as conn:
                rows = conn.execute("SELECT count(*) FROM request_logs").fetchone()[0]
            print(f"\nrows written by the monitored gateway: {rows}")
        finally:
            for proc in [*procs, fake_proc]:
                proc.terminate()
                proc.wait()


async def measure_cpu(
    pid: int, call: Call, concurrency: int, seconds: float
) -> dict[str, float]:
    before = cpu_seconds(pid)
    result = await measure(call, concurrency, seconds)
    requests = result["rps"] * result["elapsed"]
    result["cpu_us"] = (cpu_seconds(pid) - before) / requests * 1e6
    return result


def report(results: dict[tuple[str, str, int], list[dict[str, float]]]) -> None:
    print(f"{'target':<7} {'c':>3} {'monitor':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'CPU us/req':>10}")
    for (target, name, c), runs in sorted(results.items(), key=lambda kv: (kv[0][2], kv[0][0])):
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"{target:<7} {c:>3} {name:>7} {med['rps']:>8.0f} {med['p50_ms']:>8.3f} "
              f"{med['p99_ms']:>8.2f} {med['cpu_us']:>10.0f}")
    print()
    for target in ("chat", "stream"):
        for c in (1, 32):
            on = results[(target, "on", c)]
            off = results[(target, "off", c)]
            rps = statistics.median(r["rps"] for r in on) / statistics.median(
                r["rps"] for r in off) - 1
            p50 = statistics.median(r["p50_ms"] for r in on) - statistics.median(
                r["p50_ms"] for r in off)
            cpu = statistics.median(r["cpu_us"] for r in on) / statistics.median(
                r["cpu_us"] for r in off) - 1
            print(f"{target:<7} c={c:<3} throughput {rps:+.1%}  p50 {p50:+.3f} ms  "
                  f"CPU per request {cpu:+.1%}")


async def record_cost(count: int = 5_000) -> None:
    """CPU per request of the monitor itself, in process: `Monitor.finish` with the database
    off (metrics and the access line only) and on (plus the writer thread's row, batch insert,
    rollup), for a typical chat request with bodies."""
    from antigravity_gateway.monitor.record import Record
    from antigravity_gateway.monitor.service import Monitor
    from antigravity_gateway.settings import MonitorSettings

    logging.basicConfig(level=logging.INFO, filename=os.devnull)
    body = json.dumps(CHAT).encode()
    answer = json.dumps({"choices": [{"message": {"content": "Hello from gemini-3-flash."}}],
                         "usage": {"prompt_tokens": 1, "completion_tokens": 8}}).encode()

    def record() -> Record:
        return Record(timestamp_ms=int(time.time() * 1000), method="POST",
                      path="/v1/chat/completions", protocol="openai", model="gemini-3-flash",
                      mapped_model="gemini-3-flash", account_email="a@example.com", status=200,
                      input_tokens=1, output_tokens=8, attempts=1, duration_ms=1.0,
                      request_body=body, response_body=answer)

    with tempfile.TemporaryDirectory() as tmp:
        monitor = Monitor(Path(tmp), MonitorSettings(), secrets=lambda: ["sk-bench-key-123"],
                          accounts=dict)
        await monitor.start()
        costs = {}
        for enabled in (False, True):
            monitor.settings = MonitorSettings(enabled=enabled)
            began = time.process_time()
            for _ in range(count):
                monitor.finish(record())
            while enabled and monitor.writer.written + monitor.writer.dropped < count:
                await asyncio.sleep(0.01)
            costs[enabled] = (time.process_time() - began) / count * 1e6
        await monitor.stop()
        assert monitor.writer.dropped == 0, "the queue overflowed: lower the count"
    print(f"\nCPU per request in process: database off {costs[False]:.1f} us, "
          f"on {costs[True]:.1f} us (the writer thread's share: "
          f"{costs[True] - costs[False]:.1f} us)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of on and off")
    parser.add_argument("--cost-only", action="store_true", help="only the in-process cost")
    args = parser.parse_args()
    if not args.cost_only:
        asyncio.run(run(args.seconds, args.rounds))
    asyncio.run(record_cost())


if __name__ == "__main__":
    main()
