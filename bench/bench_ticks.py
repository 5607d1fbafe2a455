"""Keep-alive ticks: CPU per event that the Anthropic relay's keep-alive costs, against the same
loop without one. In-process, `time.process_time`, 100,000 events: `python bench/bench_ticks.py`.

Since the heartbeat rewrite the relay loop only notes each event's time (`_Heartbeat.beat`);
the previous design (a reader task and a one-slot queue between it and the relay) cost ~12 us
per event, and the one before it (a task and an `asyncio.wait` per event) ~15 us."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from antigravity_gateway.server import relay

EVENTS = 100_000


class _Sink:
    async def write(self, data: bytes) -> None:
        return None


async def source(n: int) -> AsyncIterator[int]:
    """An upstream that has its events ready, yielding to the loop now and then."""
    for i in range(n):
        yield i
        if i % 50 == 0:
            await asyncio.sleep(0)


async def cpu_per_event(with_heartbeat: bool) -> float:
    heartbeat = relay._Heartbeat(_Sink(), lambda: [b"ping"], 15.0) if with_heartbeat else None  # type: ignore[arg-type]
    started = time.process_time()
    count = 0
    async for _ in source(EVENTS):
        if heartbeat is not None:
            heartbeat.beat()
        count += 1
    if heartbeat is not None:
        await heartbeat.stop()
    assert count == EVENTS
    return (time.process_time() - started) / EVENTS * 1e6


async def main() -> None:
    for name, flag in (("heartbeat", True), ("floor", False)):
        runs = [await cpu_per_event(flag) for _ in range(3)]
        print(f"{name}: " + ", ".join(f"{us:.2f}" for us in runs) + " us of CPU per event")


if __name__ == "__main__":
    asyncio.run(main())
