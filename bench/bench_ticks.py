"""Keep-alive ticks: CPU per event of `server/relay._ticks` (the wrapper every Anthropic and
Gemini stream's events pass through), against a bare pass-through generator. In-process,
`time.process_time`, 100,000 events: `python bench/bench_ticks.py`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

from antigravity_gateway.server import relay

EVENTS = 100_000
Wrapper = Callable[[AsyncIterator[int], float], AsyncIterator[object]]


async def source(n: int) -> AsyncIterator[int]:
    """An upstream that has its events ready, yielding to the loop now and then."""
    for i in range(n):
        yield i
        if i % 50 == 0:
            await asyncio.sleep(0)


async def passthrough(events: AsyncIterator[int], every: float) -> AsyncIterator[object]:
    async for event in events:
        yield event


async def cpu_per_event(wrap: Wrapper) -> float:
    started = time.process_time()
    count = 0
    async for _ in wrap(source(EVENTS), 15.0):
        count += 1
    assert count == EVENTS
    return (time.process_time() - started) / EVENTS * 1e6


async def main() -> None:
    for name, wrap in (("_ticks", relay._ticks), ("floor", passthrough)):
        runs = [await cpu_per_event(wrap) for _ in range(3)]  # type: ignore[arg-type]
        print(f"{name}: " + ", ".join(f"{us:.2f}" for us in runs) + " us of CPU per event")


if __name__ == "__main__":
    asyncio.run(main())
