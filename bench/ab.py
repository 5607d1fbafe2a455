"""A/B: the CPU per chat request of gateway source trees against a bare aiohttp relay.

    git archive <commit> src | tar -x -C /tmp/before
    python bench/ab.py /tmp/before/src [more trees...] [--stream] [--rounds 5]

This checkout (`now`), each other tree and the bare relay (tests/e2e/bare_relay.py) serve chat
completions from one simulator (bench/sim.py), pinned as in bench/run.py. They are loaded in
interleaved rounds, as the regression check does (tests/e2e/test_cpu_budget.py), and each
one's CPU time per request is read from /proc. Interleaving is what makes a few percent
visible on a shared machine; the run-to-run noise is still about +/-5%.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import procs  # noqa: E402
from run import wait_up  # noqa: E402
from tests.e2e import test_cpu_budget as budget  # noqa: E402


def start_all(sim: dict, work: Path, trees: list[str]) -> dict[str, procs.Proc]:
    started: dict[str, procs.Proc] = {}
    for n, src in enumerate([None, *trees]):
        (work / str(n)).mkdir()
        started[src or "now"] = procs.start_gateway(sim, work / str(n), src=src)
    started["bare relay"] = procs.start_bare(sim)
    return started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", help="other trees' src directories")
    parser.add_argument("--stream", action="store_true", help="streamed chat completions")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    sim_popen, sim = procs.start_sim()
    work = Path(tempfile.mkdtemp(prefix="agm-ab-"))
    started = start_all(sim, work, args.trees)
    try:
        for proc in started.values():
            asyncio.run(wait_up(proc, "/healthz" if proc.name == "gateway" else "/"))
        targets = {name: (proc.popen.pid, proc.url) for name, proc in started.items()}
        cost = budget.cpu_per_request(targets, rounds=args.rounds, stream=args.stream)
    finally:
        for proc in started.values():
            proc.stop()
        sim_popen.terminate()
        shutil.rmtree(work, ignore_errors=True)
    for name, us in cost.items():
        print(f"{name:40s} {us:6.0f} us per request  {us / cost['bare relay']:.2f}x the bare relay")


if __name__ == "__main__":
    main()
