"""Our own per-request work, without sockets: what `chat_completions` does around aiohttp.

    python bench/bench_hub.py [--requests 20000] [--stream] [--cprofile]

In one process: parse and decode an OpenAI chat body, `Gateway.serve` (routes, the account pool,
the attempt loop, the Cloud Code body and envelope), the simulator's two SSE events read through
the real SSE decoder and Gemini stream decoder, then the assembled JSON answer (or, `--stream`,
every chunk encoded). Only the upstream's socket is replaced: a response object that hands over
the simulator's bytes. CPU time per request (`time.process_time`), best of 5 rounds: stable to a
few percent, unlike the end-to-end bench, so small changes to the hot path can be measured.
`--idle 0.5,2,10,50`: the same request after that many ms of the process asleep (CPU time of
the request alone): what a cold cache costs the very same code on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
from msgspec.structs import replace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sim import stream_frames  # noqa: E402
from tests.server.helpers import seed_account, settings_with  # noqa: E402

from antigravity_gateway.app import build_app  # noqa: E402
from antigravity_gateway.protocols.openai_chat import inbound as openai  # noqa: E402
from antigravity_gateway.server.context import GATEWAY, decode_now, parse_json  # noqa: E402
from antigravity_gateway.server.relay import assemble  # noqa: E402

BODY = b'{"model":"gemini-3-flash","messages":[{"role":"user","content":"bench: hi there"}]}'
SSE = b"".join(stream_frames(b"hello", None, True))


class _Response:
    """Stands for the upstream client's `wire.Response`: the simulator's bytes, received."""

    status = 200
    url = "http://sim/v1internal:streamGenerateContent"

    def __init__(self) -> None:
        self._left = [SSE]

    async def readany(self) -> bytes:
        return self._left.pop() if self._left else b""

    def at_eof(self) -> bool:
        return not self._left

    def release(self) -> None:
        return None

    async def read(self) -> bytes:  # the pool's background quota refresh: nothing new
        return b"{}"

    async def __aenter__(self) -> _Response:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None


async def _post(*_: Any) -> _Response:
    return _Response()


async def one(gateway: Any, stream: bool) -> bytes:
    body = parse_json(BODY)
    req = decode_now(openai.decode_request, body)
    served = await gateway.serve(req)
    if stream:
        encoder = openai.StreamEncoder(id="chatcmpl-x", model=req.model, created=1,
                                       include_usage=False)
        out = []
        while taken := await served.events.take():
            out += [frame for event in taken for frame in encoder.feed(event)]
        return b"".join(out)
    resp = await assemble(served.events)
    wire = openai.encode_response(replace(resp, id="chatcmpl-x"), model=req.model, created=1)
    return msgspec.json.encode(wire)


async def rounds(args: argparse.Namespace) -> None:
    # the pool's upkeep may still be saving an account file as the directory goes
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        seed_account(Path(tmp), "a@example.com", access_token="ya29.bench")
        app = build_app(settings_with(upstream={"cloudcode_base_urls": ["http://sim"]}),
                        Path(tmp))
        gateway = app[GATEWAY]
        gateway.google.provider.client._post = _post  # the one socket: replaced
        assert b"Hello" in await one(gateway, args.stream)
        if args.idle:
            await after_idle(gateway, args)
            return
        best = float("inf")
        profile = cProfile.Profile() if args.cprofile else None
        for _ in range(5):
            if profile:
                profile.enable()
            started = time.process_time()
            for _ in range(args.requests):
                await one(gateway, args.stream)
            best = min(best, (time.process_time() - started) / args.requests)
            if profile:
                profile.disable()
        print(f"{best * 1e6:.1f} us of CPU per request ({'stream' if args.stream else 'chat'})")
        await gateway.http.close()
        if profile:
            pstats.Stats(profile).sort_stats("tottime").print_stats(40)


async def after_idle(gateway: Any, args: argparse.Namespace) -> None:
    """CPU time of one request after the process slept `gap` ms, for each gap (0: back to back)."""
    for _ in range(2000):  # warm
        await one(gateway, args.stream)
    for gap in [0.0, *(float(ms) / 1000 for ms in args.idle.split(","))]:
        spent, count = 0.0, 300 if gap else 5000
        for _ in range(count):
            time.sleep(gap)
            started = time.thread_time()
            await one(gateway, args.stream)
            spent += time.thread_time() - started
        print(f"after {gap * 1000:5.1f} ms asleep: {spent / count * 1e6:6.1f} us of CPU a request")
    await gateway.http.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--idle", default="", help="ms asleep before each request, e.g. 2,10,50")
    args = parser.parse_args()
    asyncio.run(rounds(args))


if __name__ == "__main__":
    main()
