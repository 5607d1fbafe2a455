"""The local `zai-mcp-server`: the official `mcp` SDK's low-level server and session manager.

The SDK does the protocol (initialize, sessions, tools/list, tools/call, errors, SSE, DELETE);
this module only lists the vision tools and runs them. The session manager lives in its own task
for the app's lifetime (anyio scopes must close in the task that opened them).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import mcp_types as types
from aiohttp import web
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError

from .. import __version__
from ..errors import InvalidRequest
from ..server.context import request_id_of
from . import asgi
from .calls import Sniffer
from .vision import ToolFailure, VisionBackend
from .vision_tools import BY_NAME, TOOLS

SERVER_NAME = "zai-mcp-server"


def build_server(backend: VisionBackend) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(name=t.name, description=t.description, input_schema=t.input_schema())
                for t in TOOLS
            ]
        )

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = BY_NAME.get(params.name)
        if tool is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool: {params.name}")
        try:
            text = await backend.run(tool, params.arguments or {})
        except ToolFailure as exc:
            error = types.TextContent(text=f"Error: {exc}")
            return types.CallToolResult(content=[error], is_error=True)
        return types.CallToolResult(content=[types.TextContent(text=text)])

    return Server(
        SERVER_NAME, version=__version__, on_list_tools=list_tools, on_call_tool=call_tool
    )


class LocalServer:
    """The SDK's Streamable-HTTP session manager, served through aiohttp."""

    def __init__(self, backend: VisionBackend, *, max_body_bytes: int) -> None:
        self.manager = StreamableHTTPSessionManager(
            build_server(backend), max_request_body_size=max_body_bytes
        )

    async def handle(
        self, request: web.Request, sniffer: Sniffer, closing: asyncio.Event | None
    ) -> web.StreamResponse:
        headers = {"X-Request-Id": request_id_of(request)}
        exchange = asgi.Exchange(request, sniffer, headers, closing)
        if (await exchange.peek()).lstrip().startswith(b"["):
            raise InvalidRequest(
                "JSON-RPC batches are not part of MCP since 2025-06-18: "
                "send one message per request"
            )
        return await asgi.serve(self.manager.handle_request, exchange)

    async def context(self, app: web.Application) -> AsyncIterator[None]:
        """For `app.cleanup_ctx`: the session manager runs from startup to cleanup."""
        started, stop = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(self._run(started, stop))
        waiter = asyncio.ensure_future(started.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if task.done():
            task.result()  # a failed start raises here
        yield
        stop.set()
        await task

    async def _run(self, started: asyncio.Event, stop: asyncio.Event) -> None:
        async with self.manager.run():
            started.set()
            await stop.wait()
