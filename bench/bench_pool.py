"""Micro-benchmark: the pool's hot path (`Pool.pick`) in one process, µs per pick.

CPU time, best of 25 rounds: less sensitive to a loaded machine than the HTTP benchmarks.
Compare two checkouts with `PYTHONPATH=<other>/src python bench/bench_pool.py`. Cases:
every pick a new conversation (binds a session), and one conversation picked again and again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from antigravity_gateway.accounts.pool import Pool
from antigravity_gateway.accounts.store import Account

PICKS = 20_000
MODEL = "gemini-3-flash"


def per_pick(job: Callable[[int], object]) -> float:
    best = float("inf")
    for _ in range(25):
        began = time.process_time()
        for n in range(PICKS):
            job(n)
        best = min(best, (time.process_time() - began) / PICKS)
    return best * 1e6


def main() -> None:
    accounts = [Account(id=f"a{n}", email=f"a{n}@x", refresh_token="rt") for n in range(4)]
    pool = Pool(accounts, rng=random.Random(1))
    new = per_pick(lambda n: pool.pick(MODEL, session=f"conversation {n}"))
    same = per_pick(lambda n: pool.pick(MODEL, session="one conversation"))
    print(f"pick, new conversation: {new:.2f} us; same conversation: {same:.2f} us")


if __name__ == "__main__":
    main()
