"""Bench simulator: Google's side for `bench/run.py`, lean on the generate path.

The Cloud Code simulator (`tests.fakes.cloudcode`) serves OAuth, onboarding and the model list;
a middleware answers every generate call itself, from answers encoded once, so the simulator
spends little CPU per request. It speaks both Cloud Code (`/v1internal:streamGenerateContent`,
answers wrapped in `{"response": ...}`) and the public Gemini API (`/models/<m>:generateContent`
and `:streamGenerateContent`, what litellm's `gemini/` provider calls).

The last `bench:<kind>[=<arg>]` marker in the request picks the answer: none -> "Hello" in 2
chunks; `chunks=N` -> N text events; `tool` -> one function call; `slow=<id>/<ms>` -> a text
event every <ms> until the client goes away, recording when the connection opened and closed
(monotonic clock, comparable across processes) so the bench can time hang-ups and count
orphaned upstream streams: `GET /bench/state`, `POST /bench/reset`.
Run: `python bench/sim.py` prints one JSON line of addresses (like `tests.fakes.cloudcode`).
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.cli import describe  # noqa: E402
from tests.fakes.cloudcode import FakeGoogle, seed_accounts  # noqa: E402

MARKER = re.compile(rb"bench:(\w+)(?:=([\w/.-]+))?")
SIGNATURE = "YmVuY2gtc2lnbmF0dXJl" * 4  # any base64: the gateway only carries it back


def _response(parts: list[dict[str, Any]], final: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    response: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini-3-flash",
                                "responseId": "bench-response"}
    if final:
        candidate["finishReason"] = "STOP"
        response["usageMetadata"] = {"promptTokenCount": 12, "candidatesTokenCount": 7,
                                     "totalTokenCount": 19}
    return response


def _frame(response: dict[str, Any], envelope: bool) -> bytes:
    body = response
    if envelope:
        body = {"response": response, "traceId": "bench-trace", "metadata": {}}
    return b"data: " + json.dumps(body, separators=(",", ":")).encode() + b"\r\n\r\n"


def _parts(kind: bytes, arg: bytes | None) -> list[list[dict[str, Any]]]:
    """The parts of each stream event for one answer kind."""
    if kind == b"chunks":
        return [[{"text": f"word{n} "}] for n in range(int(arg or 2))]
    if kind == b"tool":
        call = {"functionCall": {"name": "read_file", "args": {"path": "src/app.py"}},
                "thoughtSignature": SIGNATURE}
        return [[{"text": "Let me read it."}], [call]]
    return [[{"text": "Hello from "}], [{"text": "the bench."}]]


@lru_cache(maxsize=64)
def stream_frames(kind: bytes, arg: bytes | None, envelope: bool) -> tuple[bytes, ...]:
    events = _parts(kind, arg)
    return tuple(_frame(_response(p, i == len(events) - 1), envelope)
                 for i, p in enumerate(events))


@lru_cache(maxsize=64)
def unary_body(kind: bytes, arg: bytes | None, envelope: bool) -> bytes:
    parts = [part for event in _parts(kind, arg) for part in event]
    response = _response(parts, True)
    body = {"response": response, "traceId": "bench-trace"} if envelope else response
    return json.dumps(body).encode()


class Hangups:
    """Open/closed times of the `slow` streams, by id."""

    def __init__(self) -> None:
        self.opened: dict[str, float] = {}
        self.closed: dict[str, float] = {}

    def state(self) -> dict[str, Any]:
        return {"open": len(self.opened) - len(self.closed), "opened": self.opened,
                "closed": self.closed}


HANGUPS = web.AppKey("hangups", Hangups)


async def _slow(request: web.Request, ident: str, interval: float, envelope: bool,
                stream: bool) -> web.StreamResponse:
    hangups = request.app[HANGUPS]
    hangups.opened[ident] = time.monotonic()
    frame = stream_frames(b"hello", None, envelope)[0]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    try:
        await response.prepare(request)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            transport = request.transport
            if transport is None or transport.is_closing():
                break
            if stream:
                await response.write(frame)
            await asyncio.sleep(interval)
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        hangups.closed[ident] = time.monotonic()
    return response


async def _generate(request: web.Request, stream: bool) -> web.StreamResponse:
    raw = await request.read()
    envelope = "v1internal" in request.path
    found = MARKER.findall(raw)
    kind, arg = found[-1] if found else (b"hello", None)
    if kind == b"slow":
        ident, _, ms = (arg or b"x/50").decode().partition("/")
        return await _slow(request, ident, float(ms or 50) / 1000, envelope, stream)
    if not stream:
        return web.Response(body=unary_body(kind, arg or None, envelope),
                            content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for frame in stream_frames(kind, arg or None, envelope):
        await response.write(frame)
    await response.write_eof()
    return response


@web.middleware
async def lean_generate(request: web.Request, handler: Any) -> web.StreamResponse:
    path = request.path
    if path.endswith(":streamGenerateContent"):
        return await _generate(request, True)
    if path.endswith(":generateContent"):
        return await _generate(request, False)
    return await handler(request)  # type: ignore[no-any-return]


async def _state(request: web.Request) -> web.Response:
    return web.json_response(request.app[HANGUPS].state())


async def _reset(request: web.Request) -> web.Response:
    request.app[HANGUPS].__init__()  # type: ignore[misc]
    return web.json_response({})


class BenchFake(FakeGoogle):
    def make_app(self) -> web.Application:
        app = super().make_app()
        app.middlewares.append(lean_generate)
        app[HANGUPS] = Hangups()
        app.router.add_get("/bench/state", _state)
        app.router.add_post("/bench/reset", _reset)
        return app


async def serve() -> None:
    fake = BenchFake(max_records=100)
    seed_accounts(fake, 2)
    await fake.start(0)
    print(json.dumps(describe(fake)), flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import uvloop

    uvloop.run(serve())
