"""Keep-alive ticks: CPU per event of `server/relay._ticks` (the wrapper every Anthropic and
Gemini stream's events pass through), against a bare pass-through generator. In-process,
`time.process_time`, 100,000 events: `python bench/bench_ticks.py`."""
import asyncio, time, sys
from antigravity_gateway.server import relay

async def source(n):
    for i in range(n):
        yield i
        if i % 50 == 0:
            await asyncio.sleep(0)

async def run(fn, n=100_000):
    t = time.process_time()
    count = 0
    async for item in fn(source(n), 15.0):
        count += 1
    return (time.process_time() - t) / n * 1e6, count

async def main():
    for _ in range(3):
        us, c = await run(relay._ticks)
        print(f"{us:.2f} us/event ({c})")
asyncio.run(main())

async def passthrough(events, every):
    async for e in events:
        yield e

async def main2():
    for _ in range(2):
        us, c = await run(passthrough)
        print(f"floor {us:.2f} us/event")
asyncio.run(main2())
