"""Table and goals of `bench/run.py`: rows as they come, then the ratios the issue asks for."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LONG_EVENTS = 2000


def meta() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               "?")
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": commit,
            "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_start": os.getloadavg()}


HEAD = (f"{'workload':<20} {'target':<8} {'c':>2} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'TTFB ms':>7} {'CPU us/req':>10} {'load':>5}")


def print_row(row: dict[str, Any]) -> None:
    if row.get("workload") == "chat" and row["target"] == "direct" and row["c"] == 1:
        print(HEAD)
    if "error" in row:
        print(f"{row['workload']:<20} {row['target']:<8} {row['c']:>2} error: {row['error']}")
        return
    ttfb = f"{row['ttfb_p50_ms']:.2f}" if row["ttfb_p50_ms"] is not None else "-"
    cpu = f"{row['cpu_us']:.0f}" if row["cpu_us"] is not None else "-"
    print(f"{row['workload']:<20} {row['target']:<8} {row['c']:>2} {row['rps']:>7.0f} "
          f"{row['p50_ms']:>7.2f} {row['p99_ms']:>7.2f} {ttfb:>7} {cpu:>10} "
          f"{row['load']:>5.1f}", flush=True)


def _cell(result: dict[str, Any], workload: str, target: str, c: int) -> dict[str, Any] | None:
    for row in result.get("cells", []):
        if (row["workload"], row["target"], row["c"]) == (workload, target, c) \
                and "error" not in row:
            return dict(row)
    return None


def goals(result: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(goal, achieved figure, met?) for each goal that this run measured."""
    out: list[tuple[str, str, bool | None]] = []
    for workload in ("chat", "chat_stream", "chat_sdk_bytes", "chat_stream_sdk_bytes",
                     "chat_sdk", "chat_stream_sdk"):
        gw, ll = _cell(result, workload, "gateway", 8), _cell(result, workload, "litellm", 8)
        if gw and ll:
            out.append(_cpu_goal(workload, gw, ll, _cell(result, workload, "bare", 8)))
    out += _floor(result)
    direct, nginx, gw = (_cell(result, "chat", t, 1) for t in ("direct", "nginx", "gateway"))
    if direct and nginx and gw:
        added, hop = gw["p50_ms"] - direct["p50_ms"], nginx["p50_ms"] - direct["p50_ms"]
        out.append(("added p50 at c=1 <= 3x the nginx hop's (chat)",
                    f"+{added:.2f} ms vs nginx +{hop:.2f} ms = {added / hop:.1f}x"
                    if hop > 0 else f"+{added:.2f} ms vs nginx +{hop:.2f} ms",
                    added <= 3 * hop if hop > 0 else None))
    if direct and gw:
        added99 = gw["p99_ms"] - direct["p99_ms"]
        out.append(("added p99 at c=1 <= 2 ms (chat)", f"+{added99:.2f} ms", added99 <= 2))
    for workload in ("long_2000_openai", "long_2000_anthropic"):
        row = _cell(result, workload, "gateway", 8)
        if row:
            rate = LONG_EVENTS / (row["cpu_us"] / 1e6)
            out.append((f"stream relay >= 20,000 events/s on one core ({workload})",
                        f"{rate:,.0f} events per CPU-second", rate >= 20_000))
    out += _memory_goals(result)
    return out


def _cpu_goal(workload: str, gw: dict[str, Any], ll: dict[str, Any],
              bare: dict[str, Any] | None) -> tuple[str, str, bool | None]:
    """The 25x CPU goal for the generator's and the SDK's replayed requests; the live SDK's
    rows are context (it cannot saturate the proxy), with the bare relay under the same load."""
    ratio = ll["cpu_us"] / gw["cpu_us"]
    figure = f"{ratio:.1f}x ({gw['cpu_us']:.0f} vs {ll['cpu_us']:.0f} us"
    if not workload.endswith("_sdk"):
        who = "; the openai SDK's own requests" if workload.endswith("_bytes") else ""
        return (f"CPU/request >= 25x lower than litellm ({workload}, c=8{who})", figure + ")",
                ratio >= 25)
    floor = (f"; gateway = {gw['cpu_us'] / bare['cpu_us']:.2f}x bare, bare alone "
             f"{ll['cpu_us'] / bare['cpu_us']:.1f}x") if bare else ""
    busy = (f"; busy: gateway {_busy(gw):.0%}" + (f", bare {_busy(bare):.0%}" if bare else "")
            + f", litellm {_busy(ll):.0%}")
    if gw.get("client_cpu_us"):  # since session 11
        busy += f"; the SDK's own CPU {gw['client_cpu_us']:.0f} us a request"
    return (f"(live openai SDK, proxy not saturated) CPU/request vs litellm ({workload}, c=8)",
            f"{figure}{floor}{busy})", None)


def _busy(cell: dict[str, Any]) -> float:
    """The share of its core a target used: how far the load went to saturating it."""
    return float(cell["rps"] * cell["cpu_us"] / 1e6)


FLOORS = {"bare": "bare aiohttp relay",
          "bare-wire": "bare relay, aiohttp server + the gateway's upstream client"}


def _floor(result: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """What a bare relay (no routing, no translation) spends: the floor of the ratios."""
    out: list[tuple[str, str, bool | None]] = []
    gw, ll = _cell(result, "chat", "gateway", 8), _cell(result, "chat", "litellm", 8)
    direct, nginx = _cell(result, "chat", "direct", 1), _cell(result, "chat", "nginx", 1)
    for target, name in FLOORS.items():
        bare, bare1 = _cell(result, "chat", target, 8), _cell(result, "chat", target, 1)
        if gw and ll and bare:
            out.append((f"(floor) {name} CPU/request vs litellm (chat, c=8)",
                        f"{ll['cpu_us'] / bare['cpu_us']:.1f}x ({bare['cpu_us']:.0f} us; "
                        f"gateway = {gw['cpu_us'] / bare['cpu_us']:.2f}x it)", None))
        if direct and nginx and bare1:
            added, hop = bare1["p50_ms"] - direct["p50_ms"], nginx["p50_ms"] - direct["p50_ms"]
            out.append((f"(floor) {name} added p50 at c=1 (chat)",
                        f"+{added:.2f} ms" + (f" = {added / hop:.1f}x nginx's" if hop > 0 else ""),
                        None))
    return out


def _memory_goals(result: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    out: list[tuple[str, str, bool | None]] = []
    mem = result.get("memory", {})
    if "streams" in mem:
        kb = mem["streams"]["kb_per_stream"]
        out.append(("<= 25 KB RSS per open stream", f"{kb:.1f} KB", kb <= 25))
    if "bare_streams" in mem:
        out.append(("(floor) bare aiohttp relay RSS per open request",
                    f"{mem['bare_streams']['kb_per_stream']:.1f} KB", None))
    if mem.get("leak", {}).get("drift_pct") is not None:
        leak = mem["leak"]
        out.append((f"RSS within +/-5% from 10k to {leak['requests']:,} requests",
                    f"{leak['rss_10k_mb']:.1f} -> {leak['rss_end_mb']:.1f} MB "
                    f"({leak['drift_pct']:+.1f}%)", abs(leak["drift_pct"]) <= 5))
    gw_hangs = [r for r in result.get("hangup", []) if r["target"] == "gateway"]
    if gw_hangs:
        worst = max((ms if ms is not None else float("inf"))
                    for r in gw_hangs for ms in r["ms"])
        out.append(("upstream closed within 100 ms of a hang-up, every protocol",
                    f"worst {worst:.1f} ms", worst <= 100))
    for name, orphan in mem.get("orphans", {}).items():
        if "error" in orphan:
            out.append((f"orphaned upstream streams ({name})", f"not measured: {orphan['error']}",
                        False if name == "gateway" else None))
            continue
        out.append((f"orphaned upstream streams ({name}, 2 s after 100 hang-ups)",
                    str(orphan["open_after_2s"]), orphan["open_after_2s"] == 0
                    if name == "gateway" else None))
    if "cli" in result:
        helps = result["cli"]["agm --help"]
        out.append(("agm --help < 150 ms", f"{helps:.0f} ms", helps < 150))
    return out


def print_summary(result: dict[str, Any]) -> None:
    print("\ngoals:")
    for goal, figure, met in goals(result):
        mark = "n/a" if met is None else ("MET" if met else "NOT MET")
        print(f"  {mark:<8} {goal}: {figure}")


def markdown(result: dict[str, Any]) -> str:
    """The README tables of one run: cells, hang-ups, memory, CLI and goals."""
    out = [f"Run {result['meta']['date']}, commit {result['meta']['commit']}, "
           f"{result['meta']['cpu']} x{result['meta']['cores']}, Python "
           f"{result['meta']['python']}, load average at start "
           f"{result['meta']['load_start'][0]:.1f}, {result['meta']['seconds']:.0f} s.", "",
           "| workload | target | c | req/s | p50 ms | p99 ms | TTFB p50 ms | proxy CPU µs/req "
           "| load |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in result.get("cells", []):
        if "error" in row:
            out.append(f"| {row['workload']} | {row['target']} | {row['c']} | error | | | | | |")
            continue
        ttfb = f"{row['ttfb_p50_ms']:.2f}" if row["ttfb_p50_ms"] is not None else "-"
        cpu = f"{row['cpu_us']:.0f}" if row["cpu_us"] is not None else "-"
        out.append(f"| {row['workload']} | {row['target']} | {row['c']} | {row['rps']:.0f} | "
                   f"{row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {ttfb} | {cpu} | "
                   f"{row['load']:.1f} |")
    out += ["", "| hang-up | protocol | stream | upstream closed after (ms, 3 tries) |",
            "| --- | --- | --- | --- |"]
    for row in result.get("hangup", []):
        times = ", ".join("never" if t is None else f"{t:.1f}" for t in row["ms"])
        out.append(f"| {row['target']} | {row['protocol']} | {row['stream']} | {times} |")
    out += ["", "| goal | achieved | met |", "| --- | --- | --- |"]
    for goal, figure, met in goals(result):
        out.append(f"| {goal} | {figure} | {'n/a' if met is None else 'yes' if met else 'no'} |")
    return "\n".join(out)


if __name__ == "__main__":
    import json
    import sys

    print(markdown(json.loads(Path(sys.argv[1]).read_text())))
