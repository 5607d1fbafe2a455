"""`agm serve --workers N`: N gateway processes listening on one port (SO_REUSEPORT).

Each worker is a whole `agm serve` (its own event loop, upstream connections and monitor); the
kernel spreads connections over them; they share the pool through the Redis state store (the
memory store cannot be shared, so N > 1 with it is refused). This parent only starts the
workers, forwards SIGINT/SIGTERM, and stops them all when one exits.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .settings import Settings

POLL_SECONDS = 0.2
NEEDS_REDIS = ('--workers {n} needs shared state: set [state] backend = "redis" and redis_url '
               '(agm config set state.backend redis); the memory backend is one process only')


def refusal(settings: Settings, workers: int) -> str | None:
    """Why `workers` processes cannot run with these settings (None: they can)."""
    if workers > 1 and settings.state.backend == "memory":
        return NEEDS_REDIS.format(n=workers)
    return None


def run_workers(
    settings: Settings, data_dir: Path, *, host: str, port: int, workers: int, log_format: str
) -> int:
    """Start the workers and wait; the exit code is the first failing worker's (else 0).
    An unreachable Redis is one error here, not one per worker."""
    from .state.redis import check

    asyncio.run(check(settings.state.redis_url))
    env = {**os.environ, "AGM_DATA_DIR": str(data_dir)}
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "antigravity_gateway", "serve", "--host", host,
             "--port", str(port), "--log-format", log_format, "--worker-index", str(index)],
            env=env,
        )
        for index in range(workers)
    ]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    return _wait(children)


def _wait(children: list[subprocess.Popen[bytes]]) -> int:
    """Until every worker exited. One that fails makes the others stop; one that stopped
    cleanly (a forwarded signal) leaves the others to finish their own graceful stop."""
    while all(child.poll() is None for child in children):
        time.sleep(POLL_SECONDS)
    if any(child.poll() for child in children):
        for child in children:
            if child.poll() is None:
                child.terminate()
    codes = [child.wait() for child in children]
    return next((code for code in codes if code), 0)
