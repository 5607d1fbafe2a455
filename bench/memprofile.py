"""Where the RSS of an open stream goes: tracemalloc snapshots of `agm serve` before and with
500 slow streams open, the 40 biggest growths by source line.

    python bench/memprofile.py
"""

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402
import procs  # noqa: E402
from run import wait_up  # noqa: E402

WRAP = """
import os, signal, sys, tracemalloc, linecache
tracemalloc.start(1)
snaps = []
def snap(*_):
    snaps.append(tracemalloc.take_snapshot())
    if len(snaps) == 2:
        diff = snaps[1].compare_to(snaps[0], "lineno")
        with open(os.environ["TM_OUT"], "w") as f:
            total = sum(d.size_diff for d in diff)
            f.write(f"total {total/1024:.0f} KiB\\n")
            for d in diff[:40]:
                f.write(f"{d.size_diff/1024:8.0f} KiB {d.count_diff:7d} {d.traceback[0]}\\n")
signal.signal(signal.SIGUSR1, snap)
sys.argv = ["agm", "serve"]
from antigravity_gateway.cli import main
main()
"""
OUT = Path(tempfile.gettempdir()) / "agm-memprofile.txt"


async def snapshot_with_streams(gateway: procs.Proc, pid: int, count: int) -> None:
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        for n in range(20):  # warm up
            await measure.one(session, gateway.url, measure.slow_done(n))
        await asyncio.sleep(0.5)
        os.kill(pid, signal.SIGUSR1)
        await asyncio.sleep(1)
        streams = await asyncio.gather(*(
            measure._first(session, gateway.url, measure.slow("openai", f"t{n}", 1000, True))
            for n in range(count)))
        await asyncio.sleep(0.5)
        os.kill(pid, signal.SIGUSR1)
        for _ in range(120):  # comparing snapshots takes a while
            await asyncio.sleep(0.5)
            if OUT.exists():
                break
        await asyncio.sleep(1)
        for resp in streams:
            resp.close()


async def main() -> None:
    OUT.unlink(missing_ok=True)
    sim_popen, sim = procs.start_sim()
    data_dir = Path(tempfile.mkdtemp())
    enrolled = procs.start_gateway(sim, data_dir)
    enrolled.stop()
    env = {**os.environ, "AGM_DATA_DIR": str(data_dir), "TM_OUT": str(OUT)}
    popen = subprocess.Popen(procs.pinned(1, [sys.executable, "-c", WRAP]), env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gateway = procs.Proc("gateway", popen, enrolled.url)
    try:
        await wait_up(gateway, "/healthz")
        await snapshot_with_streams(gateway, popen.pid, 500)
    finally:
        gateway.stop()
        sim_popen.terminate()
    print(OUT.read_text())


if __name__ == "__main__":
    asyncio.run(main())
