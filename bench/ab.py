"""A/B: the CPU per chat request of gateway source trees against a bare aiohttp relay.

    git archive <commit> src | tar -x -C /tmp/before
    python bench/ab.py /tmp/before/src [more trees...] [--stream] [--rounds 5]

Each tree (and this checkout, `now`) serves chat completions from its own simulator; all of
them and the bare relay (tests/e2e/bare_relay.py) are loaded in interleaved rounds, as the
regression check does (tests/e2e/test_cpu_budget.py), and each one's CPU time per request is
read from /proc. Interleaving is what makes a few percent visible on a shared machine; the
run-to-run noise is still about +/-5%.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e import test_cpu_budget as budget  # noqa: E402
from tests.e2e.gateway import Gateway  # noqa: E402
from tests.fakes.cloudcode import FakeGoogleThread  # noqa: E402


def _start(fake: FakeGoogleThread, data_dir: Path, src: str | None) -> Gateway:
    if src is None:
        return Gateway.start(fake, data_dir)
    os.environ["PYTHONPATH"] = src  # the gateway process imports this tree's package
    try:
        return Gateway.start(fake, data_dir)
    finally:
        del os.environ["PYTHONPATH"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", help="other trees' src directories")
    parser.add_argument("--stream", action="store_true", help="streamed chat completions")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    trees: dict[str, str | None] = {"now": None} | {src: src for src in args.trees}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        targets: dict[str, tuple[int, str]] = {}
        for n, (name, src) in enumerate(trees.items()):
            fake = stack.enter_context(FakeGoogleThread(max_records=100))
            gateway = _start(fake, Path(tmp) / str(n), src)
            stack.callback(gateway.stop)
            targets[name] = (gateway.process.pid, gateway.url)
            if n == 0:
                email = gateway.emails[0]
                relay, url = budget.start_relay(fake.url("prod"), fake.issue_token(email, 3600),
                                                 fake.account(email).project)
                stack.callback(relay.terminate)
                targets["bare relay"] = (relay.pid, url)
        cost = budget.cpu_per_request(targets, rounds=args.rounds, stream=args.stream)
    for name, us in cost.items():
        print(f"{name:40s} {us:6.0f} us per request  {us / cost['bare relay']:.2f}x the bare relay")


if __name__ == "__main__":
    main()
