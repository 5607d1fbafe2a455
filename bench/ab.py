"""A/B: the CPU per chat request of gateway source trees and settings, against a bare relay.

    git archive <commit> src | tar -x -C /tmp/before
    python bench/ab.py /tmp/before/src [more trees...] [--stream] [--rounds 8] [--requests 1000]
    python bench/ab.py 'cfg:[monitor]\\nenabled = false'    # this tree with a config.toml addition

This checkout (`now`), each other tree or setting, the bare relay (tests/e2e/bare_relay.py) and
`bare canned` (an aiohttp server that reads the body and answers a fixed completion: the
server half of the floor) serve chat completions, pinned as in bench/run.py. They are loaded in
interleaved rounds, as the regression check does (tests/e2e/test_cpu_budget.py), and each
one's CPU time per request is read from /proc. Interleaving is what makes a few percent
visible on a shared machine; with 8 rounds of 1,000 requests the noise is still about +/-5%.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import procs  # noqa: E402
from run import wait_up  # noqa: E402
from tests.e2e import test_cpu_budget as budget  # noqa: E402

CANNED = """
import sys, msgspec, uvloop
from aiohttp import web
OUT = msgspec.json.encode({"object": "chat.completion", "choices": [{"index": 0, "message":
      {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}]})
async def answer(request):
    msgspec.json.decode(await request.read())
    return web.Response(body=OUT, content_type="application/json")
app = web.Application()
app.router.add_post("/v1/chat/completions", answer)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None,
            loop=uvloop.new_event_loop())
"""


def start_canned() -> procs.Proc:
    port = procs.free_port()
    popen = subprocess.Popen(procs.pinned(1, [sys.executable, "-c", CANNED, str(port)]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return procs.Proc("canned", popen, f"http://127.0.0.1:{port}")


def start_all(sim: dict, work: Path, variants: list[str]) -> dict[str, procs.Proc]:
    started: dict[str, procs.Proc] = {}
    for n, variant in enumerate(["", *variants]):
        (work / str(n)).mkdir()
        is_config = variant.startswith("cfg:")
        config = variant.removeprefix("cfg:").replace("\\n", "\n") if is_config else ""
        src = variant if variant and not is_config else None
        started[variant or "now"] = procs.start_gateway(sim, work / str(n), src=src, extra=config)
    started["bare relay"] = procs.start_bare(sim)
    started["bare canned"] = start_canned()
    return started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*",
                        help="other trees' src directories, or cfg:<config.toml lines>")
    parser.add_argument("--stream", action="store_true", help="streamed chat completions")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=1000, help="per target and round")
    args = parser.parse_args()
    sim_popen, sim = procs.start_sim()
    work = Path(tempfile.mkdtemp(prefix="agm-ab-"))
    started = start_all(sim, work, args.variants)
    try:
        for proc in started.values():
            asyncio.run(wait_up(proc, "/healthz" if proc.name == "gateway" else "/"))
        targets = {name: (proc.popen.pid, proc.url) for name, proc in started.items()}
        budget.REQUESTS_PER_ROUND = args.requests
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
