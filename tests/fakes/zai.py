"""A simulator of z.ai's side of the MCP routes: its two MCP servers and its vision chat endpoint.

The MCP servers are real Streamable-HTTP servers built with the official `mcp` SDK (the same one
the gateway uses), at z.ai's paths: `/api/mcp/web_search_prime/mcp` (tool `webSearchPrime`) and
`/api/mcp/web_reader/mcp` (tool `webReader`). `/api/paas/v4/chat/completions` answers like z.ai's
OpenAI-style API: scripted replies first, else a description of what it was shown. Every request
is recorded; a wrong key gets 401 like the real service. Served by uvicorn from a thread.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ZAI_KEY = "zai-test-key-7"
SEARCH_PATH = "/api/mcp/web_search_prime/mcp"
READER_PATH = "/api/mcp/web_reader/mcp"
CHAT_PATH = "/api/paas/v4/chat/completions"


@dataclass
class Seen:
    """One request as it reached the fake."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FakeZai:
    """What the fake received and what it will answer; shared with the serving thread."""

    key: str = ZAI_KEY
    seen: list[Seen] = field(default_factory=list)
    disconnects: list[str] = field(default_factory=list)  # "GET /path" whose client went away
    vision_calls: list[dict[str, Any]] = field(default_factory=list)
    vision_replies: deque[tuple[int, Any]] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()
            self.disconnects.clear()
            self.vision_calls.clear()
            self.vision_replies.clear()


def search_results(query: str) -> list[dict[str, str]]:
    """What the fake's web search finds: two results derived from the query."""
    slug = "-".join(query.lower().split())
    return [
        {"title": f"{query} - {kind}", "link": f"https://{host}/{slug}", "content": query}
        for kind, host in (("overview", "example.com"), ("details", "example.org"))
    ]


def page_markdown(url: str) -> str:
    return f"# Page at {url}\n\nThe fake reader fetched {url}."


def _mcp_servers() -> tuple[MCPServer, MCPServer]:
    search = MCPServer("web-search-prime", log_level="WARNING")
    reader = MCPServer("web-reader", log_level="WARNING")

    @search.tool(name="webSearchPrime", description="Search the web.")
    def web_search_prime(search_query: str, location: str = "us") -> str:
        return json.dumps(search_results(search_query))

    @reader.tool(name="webReader", description="Fetch a web page as markdown.")
    def web_reader(url: str, return_format: str = "markdown") -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not a URL: {url}")
        return page_markdown(url)

    return search, reader


def build_app(fake: FakeZai) -> ASGIApp:
    search, reader = _mcp_servers()
    apps = [
        search.streamable_http_app(streamable_http_path=SEARCH_PATH),
        reader.streamable_http_app(streamable_http_path=READER_PATH),
    ]
    routes: list[BaseRoute] = [*apps[0].routes, *apps[1].routes]
    routes.append(Route(CHAT_PATH, _chat(fake), methods=["POST"]))

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with search.session_manager.run(), reader.session_manager.run():
            yield

    return _Recorder(Starlette(routes=routes, lifespan=lifespan), fake)


def _chat(fake: FakeZai) -> Any:
    async def chat(request: Request) -> Response:
        body = await request.json()
        with fake.lock:
            fake.vision_calls.append(body)
            scripted = fake.vision_replies.popleft() if fake.vision_replies else None
        if scripted is not None:
            status, answer = scripted
            if status >= 400:
                return JSONResponse(answer, status_code=status)
            return JSONResponse(_completion(body, str(answer)))
        return JSONResponse(_completion(body, describe(body)))

    return chat


def describe(body: dict[str, Any]) -> str:
    """The fake vision model's answer: what it was shown and asked."""
    parts = body["messages"][-1]["content"]
    media = [p[p["type"]]["url"] for p in parts if p["type"] in ("image_url", "video_url")]
    shown = ", ".join(u if u.startswith("http") else u.split(",")[0] for u in media)
    prompt = next(p["text"] for p in parts if p["type"] == "text")
    return f"{body['model']} looked at {shown} for: {prompt}"


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


class _Recorder:
    """ASGI middleware: records requests, checks the key, notices clients that go away."""

    def __init__(self, app: ASGIApp, fake: FakeZai) -> None:
        self.app, self.fake = app, fake

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        with self.fake.lock:
            self.fake.seen.append(Seen(scope["method"], scope["path"], headers))
        if headers.get("authorization") != f"Bearer {self.fake.key}":
            error = {"error": {"code": "1000", "message": "Authentication failed"}}
            return await JSONResponse(error, status_code=401)(scope, receive, send)

        async def watched() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect":
                with self.fake.lock:
                    self.fake.disconnects.append(f"{scope['method']} {scope['path']}")
            return message

        await self.app(scope, watched, send)


class FakeZaiThread:
    """Serves a FakeZai with uvicorn from a background thread, for synchronous tests."""

    def __init__(self) -> None:
        self.fake = FakeZai()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeZai:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.fake.port = sock.getsockname()[1]
        config = uvicorn.Config(
            build_app(self.fake), host="127.0.0.1", port=self.fake.port,
            log_level="warning", lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="fake-zai", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake z.ai did not start")
            time.sleep(0.02)
        return self.fake

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(15)
