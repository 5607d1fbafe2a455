"""Instructions per request of gateway trees, counted by valgrind (callgrind): an A/B that the
host's noise cannot move (two runs of one tree agree within ~0.5%; CPU time moves ~8%).

    python bench/instructions.py now /tmp/before/src 'cfg:[monitor]\\nenabled = false'
    python bench/instructions.py now --threads          # the same, split by thread
    python bench/instructions.py now --by-function      # inclusive count per Python function

Each tree runs `agm serve` under callgrind with instrumentation off; after a warm-up the count
is switched on for `--requests` requests (aiohttp load, 4 at a time), then dumped. Counts are
user-space instructions of the whole process: no system calls, no cache misses, so a C loop
weighs more against Python code than its time does. Under valgrind a request takes ~15 ms, so
work the writer threads do per batch (every 20 ms) is spread over fewer requests than at full
speed, and the periodic jobs add ~10k a request. `--by-function` needs Python >= 3.12 (its perf
trampolines name each Python function in the profile; run from such a venv). Needs valgrind
(`apt-get install valgrind`).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402
import procs  # noqa: E402
from run import wait_up  # noqa: E402
from workloads import workloads  # noqa: E402

TOTALS = re.compile(r"^(?:summary|totals): (\d+)", re.M)
ANNOTATED = re.compile(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+\?\?\?:(0x[0-9a-f]+)")


async def load(proc: procs.Proc, workload: str, requests: int, concurrency: int = 4) -> None:
    req = next(w for w in workloads() if w.name == workload).gateway
    left = iter(range(requests))

    async def worker() -> None:
        for _ in left:
            await send()

    async with measure.sender(proc.url, req) as send:
        await asyncio.gather(*(worker() for _ in range(concurrency)))


def under_callgrind(out: Path, threads: bool) -> tuple[str, ...]:
    return ("valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={out}/cg.%p", *(["--separate-threads=yes"] if threads else []))


async def count(sim: dict, tree: str, args: argparse.Namespace, out: Path) -> int:
    """Start `tree` under callgrind, count `args.requests` requests; the gateway's pid."""
    config = tree[4:].replace("\\n", "\n") if tree.startswith("cfg:") else ""
    src = None if tree == "now" or config else tree
    with tempfile.TemporaryDirectory() as tmp:
        gateway = procs.start_gateway(sim, Path(tmp), src=src, extra=config,
                                      under=under_callgrind(out, args.threads))
        pid = str(gateway.popen.pid)
        try:
            await wait_up(gateway, "/healthz")
            await load(gateway, args.workload, 300)
            subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
            await load(gateway, args.workload, args.requests)
            subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
        finally:
            gateway.stop()
    return int(pid)


def per_thread(out: Path, pid: int) -> dict[str, int]:
    """Instructions of each dump file (one per thread with --threads) of the counted stretch."""
    found = {}
    for dump in sorted(out.glob(f"cg.{pid}.1*")):
        if match := TOTALS.search(dump.read_text(errors="replace")):
            found[dump.name.removeprefix(f"cg.{pid}.1").lstrip("-") or "all"] = int(match[1])
    return found


def by_function(out: Path, pid: int, requests: int, top: int = 60) -> None:
    """Inclusive instructions per Python function: callgrind names each perf trampoline only by
    its address, and the interpreter's /tmp/perf-PID.map names the addresses."""
    perf_map = Path(f"/tmp/perf-{pid}.map")
    entries = sorted(
        (int(start, 16), int(size, 16), name)
        for start, size, name in (line.split(" ", 2) for line in perf_map.read_text().splitlines()))
    perf_map.unlink()
    starts = [e[0] for e in entries]
    dump = sorted(out.glob(f"cg.{pid}.1*"))[0]  # with --threads: the main thread's
    annotated = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                                str(dump)], capture_output=True, text=True, check=True).stdout
    inclusive: dict[str, int] = {}
    for match in filter(None, map(ANNOTATED.match, annotated.splitlines())):
        address = int(match[2], 16)
        i = bisect.bisect_right(starts, address) - 1
        if i >= 0 and address < entries[i][0] + entries[i][1]:
            name = re.sub(r":/\S*?(site-packages|src)/", ":", entries[i][2].removeprefix("py::"))
            inclusive[name] = max(inclusive.get(name, 0), int(match[1].replace(",", "")))
    for name, instructions in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {instructions / requests / 1000:8.1f}k  {name[:130]}")


async def main(args: argparse.Namespace) -> None:
    if not shutil.which("callgrind_control"):
        raise SystemExit("needs valgrind: apt-get install valgrind")
    if args.by_function:
        if sys.version_info < (3, 12):
            raise SystemExit("--by-function needs Python >= 3.12 (its perf trampolines)")
        os.environ["PYTHONPERFSUPPORT"] = "1"  # inherited by `agm serve`
    sim_popen, sim = procs.start_sim()
    try:
        for tree in args.trees:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp)
                pid = await count(sim, tree, args, out)
                threads = per_thread(out, pid)
                total = sum(threads.values())
                split = "" if len(threads) < 2 else "  (" + ", ".join(
                    f"thread {name}: {n / args.requests / 1000:.1f}k"
                    for name, n in threads.items() if n) + ")"
                print(f"{tree}: {total / args.requests / 1000:.1f}k instructions per request"
                      f"{split}", flush=True)
                if args.by_function:
                    by_function(out, pid, args.requests)
    finally:
        sim_popen.terminate()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", help="now, a src/ directory, or cfg:<toml lines>")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--workload", default="chat")
    parser.add_argument("--threads", action="store_true", help="split the count by thread")
    parser.add_argument("--by-function", action="store_true",
                        help="inclusive instructions per Python function (Python >= 3.12)")
    asyncio.run(main(parser.parse_args()))
