"""One run, every axis: the simulator direct, an nginx hop, this gateway and litellm side by side
(plus, for non-stream chat, a bare aiohttp relay: the floor of any aiohttp gateway).

    python bench/run.py [--seconds 3] [--rounds 3] [--leak-requests 100000] [--out FILE]

Pins the load generator and the simulator (bench/sim.py) to core 0 and each proxy to core 1,
then, for each workload, the targets in turns (`--rounds` turns of `seconds / rounds` each, so
a change in the machine's load reaches every target alike): req/s, p50/p99,
TTFB, the proxy's CPU per request (/proc); RSS per open stream (1,000 slow streams); RSS over
many requests (leak check); time from client hang-up to upstream closed, per protocol; orphaned
upstream streams after a mass hang-up; `agm --help` / `agm accounts list` wall time. Prints a
table and the goals, writes everything to JSON. litellm is installed into bench/.venv-litellm on
first use; nginx comes from Debian (`apt-get install nginx-light`), skipped when absent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import measure  # noqa: E402
import procs  # noqa: E402
import report  # noqa: E402
from workloads import Workload, workloads  # noqa: E402

PROTOCOLS = ("openai", "anthropic", "gemini", "responses")


async def wait_up(proc: procs.Proc, path: str = "/") -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            try:
                async with session.get(proc.url + path, headers=measure.HEADERS) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{proc.name} did not come up")


def targets_for(load: Workload, sim: procs.Proc, proxies: dict[str, procs.Proc]) -> list[tuple]:
    """(target name, process whose CPU counts, url, request) for one workload."""
    out: list[tuple] = []
    if load.upstream is not None:
        out.append(("direct", sim, sim.url + "/prod", load.upstream))
        if "nginx" in proxies:
            out.append(("nginx", proxies["nginx"], proxies["nginx"].url + "/prod",
                        load.upstream))
    out.append(("gateway", proxies["gateway"], proxies["gateway"].url, load.gateway))
    if "bare" in proxies and load.name in ("chat", "chat_sdk", "chat_sdk_bytes"):
        out.append(("bare", proxies["bare"], proxies["bare"].url, load.gateway))
    if "bare-wire" in proxies and load.name == "chat":
        out.append(("bare-wire", proxies["bare-wire"], proxies["bare-wire"].url, load.gateway))
    if "litellm" in proxies and load.litellm is not None:
        out.append(("litellm", proxies["litellm"], proxies["litellm"].url, load.litellm))
    return out


async def throughput(sim: procs.Proc, proxies: dict[str, procs.Proc], seconds: float,
                     rounds: int, only: set[str] | None) -> list[dict[str, Any]]:
    rows = []
    for load in workloads():
        if only and load.name not in only:
            continue
        for concurrency in (1, 8):
            cells = await interleaved(targets_for(load, sim, proxies), concurrency, seconds,
                                      rounds)
            for row in cells:
                row["workload"] = load.name
                report.print_row(row)
            rows += cells
    return rows


async def interleaved(targets: list[tuple], concurrency: int, seconds: float,
                      rounds: int) -> list[dict[str, Any]]:
    """One cell per target: each target in turn for `seconds / rounds`, `rounds` times over, so
    a change in the host's load during the cell reaches every target alike."""
    slices: dict[str, list[measure.Slice]] = {name: [] for name, *_ in targets}
    errors: dict[str, str] = {}
    async with contextlib.AsyncExitStack() as stack:
        sends = {name: await stack.enter_async_context(measure.sender(url, req))
                 for name, _, url, req in targets}
        for _ in range(rounds):
            for name, proc, _, _ in targets:
                if name in errors:
                    continue
                try:  # a peer that cannot serve a workload: say so
                    if not slices[name]:
                        await measure.warm(sends[name])
                    slices[name].append(await measure.load_slice(
                        proc, sends[name], concurrency, seconds / rounds))
                except Exception as exc:
                    errors[name] = str(exc)[:200]
    rows = []
    for name, _, _, req in targets:
        row = ({"c": concurrency, "error": errors[name]} if name in errors
               else measure.summary(slices[name], concurrency, req.stream))
        row.update(target=name, rounds=rounds)
        rows.append(row)
    return rows


async def hangups(proxies: dict[str, procs.Proc], sim_url: str) -> list[dict[str, Any]]:
    rows = []
    for name in ("gateway", "litellm"):
        if name not in proxies:
            continue
        for protocol in PROTOCOLS if name == "gateway" else ("openai",):
            for stream in (True, False):
                times = [await measure.hangup(proxies[name].url, sim_url, protocol, stream,
                                              f"h-{name}-{protocol}-{stream}-{n}")
                         for n in range(3)]
                row = {"target": name, "protocol": protocol, "stream": stream,
                       "ms": times, "load": os.getloadavg()[0]}
                print(f"hang-up {name:<8} {protocol:<10} stream={stream!s:<5} ms={times}")
                rows.append(row)
    return rows


async def memory(proxies: dict[str, procs.Proc], sim_url: str,
                 args: argparse.Namespace) -> dict[str, Any]:
    gateway = proxies["gateway"]
    out: dict[str, Any] = {"streams": await measure.open_streams(gateway, gateway.url,
                                                                 args.streams, "m-")}
    print("open streams:", out["streams"], flush=True)
    await asyncio.sleep(1.5)  # let the hung-up slow streams close before the leak run
    req = workloads()[0].gateway
    out["leak"] = await measure.leak(gateway, gateway.url, req, args.leak_requests,
                                     args.leak_seconds)
    print("leak:", {k: v for k, v in out["leak"].items() if k != "samples_mb"}, flush=True)
    out["orphans"] = {}
    for name in ("gateway", "litellm"):
        if name in proxies:
            try:
                out["orphans"][name] = await measure.orphans(proxies[name].url, sim_url, 100,
                                                             f"o-{name}-")
            except Exception as exc:  # a peer that died earlier in the run: say so, go on
                out["orphans"][name] = {"error": str(exc)[:200]}
    print("orphans:", out["orphans"], flush=True)
    if "bare" in proxies:  # the floor: aiohttp's server + client state for one open request (last:
        # it never closes its upstream on a hang-up, so the simulator ends those after 60 s)
        out["bare_streams"] = await measure.open_waiting(proxies["bare"], proxies["bare"].url,
                                                         args.streams, "b-")
        print("bare relay, open requests:", out["bare_streams"], flush=True)
    return out


def _report_exit(proc: procs.Proc, work: Path) -> None:
    """A target that died during the run: its exit code and the end of its log, if any."""
    if (code := proc.popen.poll()) is None:
        return
    log = work / f"{proc.name}.log"
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    print(f"\n{proc.name} exited during the run (code {code}); its log ends:\n{tail}")


def start_all(sim_info: dict, work: Path, skip: set[str], extra: str) -> dict[str, procs.Proc]:
    (work / "gw").mkdir()
    proxies = {"gateway": procs.start_gateway(sim_info, work / "gw", extra=extra)}
    if "nginx" not in skip and (nginx := procs.start_nginx(sim_info, work)) is not None:
        proxies["nginx"] = nginx
    if "litellm" not in skip and (litellm := procs.start_litellm(sim_info, work)) is not None:
        proxies["litellm"] = litellm
    if "bare" not in skip:
        proxies["bare"] = procs.start_bare(sim_info)
        proxies["bare-wire"] = procs.start_bare(sim_info, "wire")
    return proxies


async def run(args: argparse.Namespace) -> dict[str, Any]:
    os.sched_setaffinity(0, {0})  # the load generator shares core 0 with the simulator
    sim_popen, sim_info = procs.start_sim()
    sim = procs.Proc("sim", sim_popen, sim_info["base_url"])
    work = Path(tempfile.mkdtemp(prefix="agm-bench-"))
    proxies = start_all(sim_info, work, set(args.skip), args.config.replace("\\n", "\n"))
    result: dict[str, Any] = {"meta": report.meta(), "proxies": list(proxies)}
    try:
        for proc in proxies.values():
            await wait_up(proc, "/healthz" if proc.name == "gateway" else "/")
        result["cells"] = await throughput(sim, proxies, args.seconds, args.rounds,
                                           set(args.only) if args.only else None)
        if not args.only:
            result["hangup"] = await hangups(proxies, sim.url)
            result["memory"] = await memory(proxies, sim.url, args)
            agm = str(Path(sys.executable).parent / "agm")
            env = {**os.environ, "AGM_DATA_DIR": str(work / "gw")}
            result["cli"] = measure.cli_startup(agm, env)
            print("cli:", result["cli"])
    finally:
        for proc in proxies.values():
            _report_exit(proc, work)
            proc.stop()
        sim.stop()
        shutil.rmtree(work, ignore_errors=True)
    result["meta"]["load_end"] = os.getloadavg()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per throughput cell")
    parser.add_argument("--rounds", type=int, default=3,
                        help="each cell's seconds split into this many turns per target")
    parser.add_argument("--streams", type=int, default=1000, help="concurrent slow streams")
    parser.add_argument("--leak-requests", type=int, default=100_000)
    parser.add_argument("--leak-seconds", type=float, default=300.0, help="bound on the leak run")
    parser.add_argument("--skip", nargs="*", default=[], choices=["nginx", "litellm", "bare"])
    parser.add_argument("--only", nargs="*", help="only these workloads, no memory/hang-up/cli")
    parser.add_argument("--config", default="", help="TOML appended to the gateway's config "
                        "(e.g. '[monitor]\\nenabled = false')")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results.json"))
    args = parser.parse_args()
    started = time.time()
    result = asyncio.run(run(args))
    result["meta"]["seconds"] = time.time() - started
    Path(args.out).write_text(json.dumps(result, indent=1))
    report.print_summary(result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
