"""CPU per request at a fixed request rate: the gateway, the bare relay and litellm, loaded by
the official openai SDK at each rate in turn (`bench/run.py` loads as fast as it can instead).

    python bench/paced.py [--rates 20,60,100,300,600] [--seconds 8] [--skip litellm]
    python bench/paced.py --tree /tmp/before/src    # also a gateway from another source tree
    python bench/paced.py --threads    # ... and each gateway's CPU per request by thread
    python bench/paced.py --idle 60    # first, CPU and thread wake-ups a second with no request

A request is sent every 1/rate s whatever the answers do (open loop), on core 0 as in
bench/run.py; the proxy's CPU time (/proc, its whole process) is divided by the requests. Below
saturation the proxy waits between requests, and on this host an idle core costs the next
request its caches (bench/README.md, "Session 9"); litellm cannot go above ~100 req/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402
import procs  # noqa: E402
from run import start_all, wait_up  # noqa: E402
from workloads import workloads  # noqa: E402

LITELLM_MAX_RATE = 100  # it serves ~110 chat requests a second on its core
TARGETS = ("gateway", "bare", "litellm")  # of the proxies bench/run.py starts


async def paced(
    proc: procs.Proc, send: measure.Send, rate: float, seconds: float
) -> tuple[float, list[float]]:
    """Send at `rate` for `seconds`, wait for every answer; the proxy's CPU µs per request, in
    all and by thread (in the order they were started)."""
    cpu_before, threads_before = proc.cpu(), procs.thread_cpu_seconds(proc.popen.pid)
    started = time.perf_counter()
    sent: list[asyncio.Task[tuple[float, float]]] = []
    while (now := time.perf_counter()) < started + seconds:
        due = started + len(sent) / rate
        if due > now:
            await asyncio.sleep(due - now)
        sent.append(asyncio.create_task(send()))
    await asyncio.gather(*sent)
    threads = procs.thread_cpu_seconds(proc.popen.pid)
    by_thread = [(threads[tid] - threads_before.get(tid, 0.0)) / len(sent) * 1e6
                 for tid in sorted(threads)]
    return (proc.cpu() - cpu_before) / len(sent) * 1e6, by_thread


async def idle(measured: dict[str, procs.Proc], seconds: float) -> None:
    """Every target left alone at once for `seconds`: its CPU ms and thread wake-ups (voluntary
    context switches) a second."""
    await asyncio.sleep(3)  # past start-up
    before = {name: (proc.cpu(), procs.wakeups(proc.popen.pid)) for name, proc in measured.items()}
    await asyncio.sleep(seconds)
    print("| idle, a second | CPU ms | thread wake-ups |\n| --- | --- | --- |")
    for name, proc in measured.items():
        cpu, woke = before[name]
        print(f"| {name} | {(proc.cpu() - cpu) / seconds * 1000:.2f} | "
              f"{(procs.wakeups(proc.popen.pid) - woke) / seconds:.1f} |")


async def run(args: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {0})  # the load generator shares core 0 with the simulator
    sim_popen, sim = procs.start_sim()
    work = Path(tempfile.mkdtemp(prefix="agm-paced-"))
    started = start_all(sim, work, {"nginx", *args.skip}, extra="")
    for n, tree in enumerate(args.tree):  # e.g. `git archive <commit> src | tar -x -C /tmp/x`
        (work / f"tree{n}").mkdir()
        started[tree] = procs.start_gateway(sim, work / f"tree{n}", src=tree)
    measured = {name: proc for name, proc in started.items()
                if name in TARGETS or name in args.tree}
    chat = next(w for w in workloads() if w.name == "chat_sdk")
    try:
        for proc in measured.values():
            await wait_up(proc, "/healthz" if proc.name == "gateway" else "/")
        if args.idle:
            await idle(measured, args.idle)
        print("| req/s | " + " | ".join(f"{name} µs" for name in measured) + " |")
        for rate in (float(r) for r in args.rates.split(",")):
            cells, threads = [], []
            for name, proc in measured.items():
                if name == "litellm" and rate > LITELLM_MAX_RATE:
                    cells.append("-")
                    continue
                async with measure.sender(proc.url, chat.gateway) as send:
                    await paced(proc, send, rate, 1.0)  # warm
                    total, by_thread = await paced(proc, send, rate, args.seconds)
                cells.append(f"{total:,.0f}")
                if args.threads and proc.name == "gateway":
                    threads.append(f"  {name} by thread: " + " / ".join(f"{us:,.0f}"
                                                                      for us in by_thread))
            print(f"| {rate:g} | " + " | ".join(cells) + " |", *threads, sep="\n", flush=True)
    finally:
        for proc in started.values():
            proc.stop()
        sim_popen.terminate()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="20,60,100,300,600")
    parser.add_argument("--seconds", type=float, default=8.0, help="per rate and target")
    parser.add_argument("--skip", nargs="*", default=[], choices=["litellm"])
    parser.add_argument("--threads", action="store_true",
                        help="each gateway's CPU µs per request by thread: the event loop "
                        "first, then the log writer, the monitor's writer, the rest")
    parser.add_argument("--idle", type=float, default=0.0,
                        help="first measure every target idle for this many seconds")
    parser.add_argument("--tree", action="append", default=[],
                        help="another source tree's src directory, measured as a gateway too")
    asyncio.run(run(parser.parse_args()))
