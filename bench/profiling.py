"""Profile the gateway under one workload while bench load runs.

    python bench/profiling.py chat_stream [--seconds 15] [--concurrency 8] [--cprofile]

Default: py-spy samples `agm serve` (wall clock: on a loaded machine a frame that wakes another
process, like a socket write, collects the time the gateway then waits for a core); prints the
top frames by own and inclusive time, raw stacks in /tmp/agm-profile-<workload>.txt.
`--cprofile`: the gateway runs under cProfile with a CPU-time clock (`time.thread_time`), reset
after warm-up; prints the top functions by own and cumulative CPU (profiler overhead ~4x);
the stats stay in /tmp/agm-profile-<workload>.prof (`pstats` callers/callees).
`--perf` (Python >= 3.12, run from a venv of it; Linux `perf`): CPU samples only, native code and
system calls included, each charged to the innermost Python function on the stack (the
interpreter's perf trampolines, `PYTHONPERFSUPPORT=1`); microseconds per request by function.
Unlike py-spy it never counts time a process waits for a core.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import pstats
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402
import procs  # noqa: E402
from run import wait_up  # noqa: E402
from workloads import workloads  # noqa: E402


def top(raw: Path, n: int = 25) -> None:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        samples = int(count)
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    for title, counter in (("own", own), ("inclusive", inclusive)):
        print(f"\ntop {n} by {title} time ({total} samples):")
        for frame, samples in counter.most_common(n):
            print(f"  {samples / total * 100:5.1f}%  {frame[:150]}")


CPROFILE = """
import cProfile, os, signal, sys, time
prof = cProfile.Profile(time.thread_time)
def dump(*_):
    prof.disable(); prof.dump_stats(os.environ["PROF_OUT"]); prof.enable()
def reset(*_):
    global prof
    prof.disable(); prof = cProfile.Profile(time.thread_time); prof.enable()
signal.signal(signal.SIGUSR1, dump)
signal.signal(signal.SIGUSR2, reset)
sys.argv = ["agm", "serve"]
from antigravity_gateway.cli import main
prof.enable()
main()
"""


async def cprofile(args: argparse.Namespace) -> None:
    sim_popen, sim_info = procs.start_sim()
    with tempfile.TemporaryDirectory() as tmp:
        gateway = procs.start_gateway(sim_info, Path(tmp))  # enrolls the accounts
        gateway.stop()
        out = Path(tmp) / "gateway.prof"
        env = {**os.environ, "AGM_DATA_DIR": tmp, "PROF_OUT": str(out)}
        popen = subprocess.Popen(procs.pinned(1, [sys.executable, "-c", CPROFILE]), env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        gateway = procs.Proc("gateway", popen, gateway.url)
        try:
            await wait_up(gateway, "/healthz")
            load = next(w for w in workloads() if w.name == args.workload).gateway
            await measure.cell(gateway, gateway.url, load, args.concurrency, 2)
            os.kill(popen.pid, signal.SIGUSR2)
            print(await measure.cell(gateway, gateway.url, load, args.concurrency, args.seconds))
            os.kill(popen.pid, signal.SIGUSR1)
            await asyncio.sleep(1)
            kept = Path(f"/tmp/agm-profile-{args.workload}.prof")
            kept.write_bytes(out.read_bytes())
            stats = pstats.Stats(str(kept))
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumtime").print_stats("antigravity_gateway", 30)
        finally:
            gateway.stop()
            sim_popen.terminate()


async def profile(args: argparse.Namespace) -> None:
    sim_popen, sim_info = procs.start_sim()
    with tempfile.TemporaryDirectory() as tmp:
        gateway = procs.start_gateway(sim_info, Path(tmp))
        try:
            await wait_up(gateway, "/healthz")
            load = next(w for w in workloads() if w.name == args.workload)
            raw = Path(f"/tmp/agm-profile-{args.workload}.txt")
            spy = subprocess.Popen(["py-spy", "record", "--format", "raw", "--rate", "500",
                                    *(["--gil"] if args.gil else []),
                                    "-o", str(raw), "--pid", str(gateway.popen.pid),
                                    "--duration", str(int(args.seconds))],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            row = await measure.cell(gateway, gateway.url, load.gateway, args.concurrency,
                                     args.seconds)
            print(row)
            spy.wait()
            top(raw)
        finally:
            gateway.stop()
            sim_popen.terminate()


def own_cpu(data: Path) -> tuple[collections.Counter[str], int]:
    """Samples per innermost Python function (`py::` trampoline symbol) of a `perf record -g`."""
    script = subprocess.run(["perf", "script", "-i", str(data), "-F", "ip,sym"],
                            capture_output=True, text=True, check=True).stdout
    own: collections.Counter[str] = collections.Counter()
    stack: list[str] = []
    for line in [*script.splitlines(), ""]:
        if line.strip():
            stack.append(line.split(None, 1)[-1])  # "<ip> <symbol>", innermost first
            continue
        if stack:
            python = next((s for s in stack if s.startswith("py::")), f"[native] {stack[0]}")
            own[python.removeprefix("py::").replace(str(ROOT) + "/src/", "")] += 1
            stack = []
    return own, sum(own.values())


async def perf(args: argparse.Namespace) -> None:
    if sys.version_info < (3, 12):
        raise SystemExit("--perf needs Python >= 3.12 (its perf trampolines): run from such a venv")
    os.environ["PYTHONPERFSUPPORT"] = "1"  # inherited by `agm serve`
    sim_popen, sim_info = procs.start_sim()
    with tempfile.TemporaryDirectory() as tmp:
        gateway = (procs.start_bare(sim_info) if args.bare
                   else procs.start_gateway(sim_info, Path(tmp), src=args.src))
        data = Path(tmp) / "perf.data"
        try:
            await wait_up(gateway, "/healthz")
            load = next(w for w in workloads() if w.name == args.workload).gateway
            await measure.cell(gateway, gateway.url, load, args.concurrency, 2)
            record = subprocess.Popen(
                ["perf", "record", "-e", "cpu-clock", "-F", "999", "--call-graph", "dwarf,16384",
                 "-o", str(data), "-p", str(gateway.popen.pid)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            row = await measure.cell(gateway, gateway.url, load, args.concurrency, args.seconds)
            record.send_signal(signal.SIGINT)
            record.wait()
            print(row)
            own, total = own_cpu(data)
            print(f"\n{total} samples; own CPU per request (perf's own cost inflates all ~1.4x):")
            for name, samples in own.most_common(40):
                print(f"  {samples / 999 / row['requests'] * 1e6:6.1f} us  {name[:120]}")
        finally:
            gateway.stop()
            sim_popen.terminate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--cprofile", action="store_true", help="CPU-time cProfile, not py-spy")
    parser.add_argument("--gil", action="store_true",
                        help="py-spy: only samples holding the GIL (no waits for it)")
    parser.add_argument("--perf", action="store_true",
                        help="Linux perf, CPU only, by Python function (Python >= 3.12)")
    parser.add_argument("--src", help="with --perf: the gateway from this source tree")
    parser.add_argument("--bare", action="store_true",
                        help="with --perf: profile the bare aiohttp relay instead (chat only)")
    args = parser.parse_args()
    asyncio.run(cprofile(args) if args.cprofile else perf(args) if args.perf else profile(args))


if __name__ == "__main__":
    main()
