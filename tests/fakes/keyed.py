"""A scriptable fake of the API-key upstreams: Anthropic Messages (z.ai), OpenAI chat, Gemini API.

One aiohttp app on loopback serves every kind under any path prefix (so one fake plays several
upstreams): `<prefix>/v1/messages[/count_tokens]`, `<prefix>/chat/completions`,
`<prefix>/models/<model>:streamGenerateContent|countTokens`. Keys are checked the way each
service does (401 `authentication_error` / 401 `invalid_api_key` / 400 `API_KEY_INVALID`). The
Anthropic side signs every thinking block and refuses (400) a thinking block whose signature it
did not issue, so a test proves signatures come back intact; the Gemini side signs function
calls (base64, as the SDK expects). Everything received is recorded.

    with KeyedThread(keys={"zk-1"}) as fake:
        fake.script(call_tool("Bash", {"command": "ls"}, thinking="Let me look."), say("done"))
        # point an upstream at fake.url("/zai/api/anthropic") ...
        [first, second] = fake.calls("anthropic")
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.keyed_render import Answer, anthropic_sse, gemini_sse, openai_sse, say

FAKE = web.AppKey("keyed", object)


@dataclass
class KeyedRecord:
    kind: str  # anthropic | openai | gemini
    method: str  # generate | count
    path: str
    headers: dict[str, str]
    body: Any
    key: str
    status: int = 0

    @property
    def model(self) -> str:
        return str(self.body.get("model", "")) if isinstance(self.body, dict) else ""


class FakeKeyed:
    def __init__(self, keys: set[str] | None = None) -> None:
        self.keys = set(keys or {"fake-key-1"})
        self.lock = threading.Lock()
        self.received: list[KeyedRecord] = []
        self._scripts: deque[tuple[str | None, Answer]] = deque()
        self.signatures: set[str] = set()
        self._n = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    def url(self, prefix: str = "") -> str:
        return f"http://127.0.0.1:{self.port}{prefix}"

    def script(self, *answers: Answer, model: str | None = None) -> None:
        """Queue answers (FIFO) for any generate call, or only for calls asking `model`."""
        with self.lock:
            self._scripts.extend((model, answer) for answer in answers)

    def calls(self, kind: str | None = None, method: str = "generate") -> list[KeyedRecord]:
        with self.lock:
            return [r for r in self.received
                    if (kind is None or r.kind == kind) and r.method == method]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self._scripts.clear()

    def _next(self, model: str) -> tuple[Answer, int]:
        with self.lock:
            self._n += 1
            for entry in self._scripts:
                if entry[0] in (None, model):
                    self._scripts.remove(entry)
                    return entry[1], self._n
            return say(f"Hello from {model}."), self._n

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app[FAKE] = self
        app.router.add_post("/{path:.+}", _handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _route(path: str) -> tuple[str, str, str]:
    """(kind, method, model in the path) of a request path."""
    if path.endswith("/v1/messages"):
        return "anthropic", "generate", ""
    if path.endswith("/v1/messages/count_tokens"):
        return "anthropic", "count", ""
    if path.endswith("/chat/completions"):
        return "openai", "generate", ""
    model, _, method = path.rpartition("/models/")[2].partition(":")
    if method in ("streamGenerateContent", "countTokens"):
        return "gemini", "generate" if method.startswith("stream") else "count", model
    return "", "", ""


def _key(kind: str, request: web.Request) -> str:
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if kind == "anthropic":
        return request.headers.get("x-api-key", "") or bearer
    if kind == "gemini":
        return request.headers.get("x-goog-api-key", "") or request.query.get("key", "")
    return bearer


BAD_KEY = {
    "anthropic": (401, {"type": "error", "error": {"type": "authentication_error",
                                                   "message": "invalid x-api-key"}}),
    "openai": (401, {"error": {"message": "Incorrect API key provided", "type":
                               "invalid_request_error", "code": "invalid_api_key"}}),
    "gemini": (400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid "
                               "API key.", "status": "INVALID_ARGUMENT",
                               "details": [{"reason": "API_KEY_INVALID"}]}}),
}


async def _handle(request: web.Request) -> web.StreamResponse:
    fake: FakeKeyed = request.app[FAKE]  # type: ignore[assignment]
    kind, method, path_model = _route(request.path)
    body = json.loads(await request.read() or b"null")
    record = KeyedRecord(kind, method, request.path, dict(request.headers), body,
                         _key(kind, request))
    with fake.lock:
        fake.received.append(record)
    if not kind:
        record.status = 404
        return web.json_response({"error": {"message": "no such route"}}, status=404)
    if record.key not in fake.keys:
        record.status, answer = BAD_KEY[kind]
        return web.json_response(answer, status=record.status)
    if kind == "anthropic" and (bad := _foreign_signature(fake, body)):
        record.status = 400
        return web.json_response({"type": "error", "error": {
            "type": "invalid_request_error",
            "message": f"Invalid `signature` in `thinking` block: {bad[:20]}"}}, status=400)
    tokens = max(1, len(json.dumps(body)) // 4)
    if method == "count":
        record.status = 200
        return web.json_response({"input_tokens": tokens} if kind == "anthropic"
                                 else {"totalTokens": tokens})
    return await _generate(request, fake, record, path_model or record.model, tokens)


def _foreign_signature(fake: FakeKeyed, body: Any) -> str:
    """A thinking block's signature this fake did not issue ("" when all are its own)."""
    for message in body.get("messages", []) if isinstance(body, dict) else []:
        for block in message.get("content") if isinstance(message.get("content"), list) else []:
            thinking = isinstance(block, dict) and block.get("type") == "thinking"
            if thinking and block.get("signature") not in fake.signatures:
                return str(block.get("signature"))
    return ""


async def _generate(request: web.Request, fake: FakeKeyed, record: KeyedRecord, model: str,
                    tokens: int) -> web.StreamResponse:
    answer, n = fake._next(model)
    record.status = answer.status
    if answer.status != 200:
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)
    if answer.garbage:
        return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")
    signature = (f"zsig-{n}-" + "s" * 40 if record.kind == "anthropic"
                 else base64.b64encode(f"gsig-{n}".encode()).decode())
    with fake.lock:
        fake.signatures.add(signature)
    if record.kind == "anthropic":
        frames = anthropic_sse(answer, model=model, n=n, signature=signature, input_tokens=tokens)
    elif record.kind == "openai":
        usage = bool((record.body.get("stream_options") or {}).get("include_usage"))
        frames = openai_sse(answer, model=model, n=n, usage=usage, input_tokens=tokens)
    else:
        frames = gemini_sse(answer, model=model, n=n, signature=signature, input_tokens=tokens)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for frame in frames:
        await response.write(frame)
    await response.write_eof()
    return response


class KeyedThread:
    """Serves a FakeKeyed from a background thread, for synchronous tests."""

    def __init__(self, keys: set[str] | None = None) -> None:
        self.fake = FakeKeyed(keys)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FakeKeyed:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self._loop).result(10)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
