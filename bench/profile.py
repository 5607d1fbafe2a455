"""Profile the gateway under one workload: py-spy samples `agm serve` while bench load runs.

    python bench/profile.py chat_stream [--seconds 15] [--concurrency 8]

Prints the top frames by own time and by inclusive time (collapsed stacks from
`py-spy record --format raw`), and leaves the raw stacks in /tmp/agm-profile-<workload>.txt.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import subprocess
import sys
import tempfile
from pathlib import Path

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


async def profile(args: argparse.Namespace) -> None:
    sim_popen, sim_info = procs.start_sim()
    with tempfile.TemporaryDirectory() as tmp:
        gateway = procs.start_gateway(sim_info, Path(tmp))
        try:
            await wait_up(gateway, "/healthz")
            load = next(w for w in workloads() if w.name == args.workload)
            raw = Path(f"/tmp/agm-profile-{args.workload}.txt")
            spy = subprocess.Popen(["py-spy", "record", "--format", "raw", "--rate", "500",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=8)
    asyncio.run(profile(parser.parse_args()))


if __name__ == "__main__":
    main()
