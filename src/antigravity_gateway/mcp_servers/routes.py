"""`ANY /mcp/<server>/mcp`: the settings gate, then the z.ai proxy or the local server.

Auth is the gateway's (middleware); refusals (400 not configured, 404 switched off, 405, 413,
502 unreachable) are `GatewayError`s that the error middleware renders as JSON-RPC errors.
Every request gives one `record_call`, refused ones included.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.typedefs import Handler

from ..errors import GatewayError
from ..server.context import gateway_of, too_large
from ..server.pipeline import Gateway
from . import proxy
from .calls import McpCall, Sniffer, Stopwatch, record_call
from .gate import McpServer, zai_key
from .hangup import cancel_on_hangup
from .local_server import LocalServer
from .vision import VisionBackend

LOCAL = web.AppKey("mcp_local_server", LocalServer)
CLOSING = web.AppKey("mcp_closing", asyncio.Event)  # set when the gateway starts to stop
METHODS = ("GET", "POST", "DELETE")  # Streamable HTTP


def install(app: web.Application, gateway: Gateway) -> None:
    """Mount the three MCP routes on `app`; the local server's sessions live as long as the app."""
    backend = VisionBackend(lambda: gateway.settings, gateway.http)
    local = LocalServer(backend, max_body_bytes=gateway.settings.proxy.max_body_bytes)
    app[LOCAL] = local
    app.cleanup_ctx.append(local.context)
    app[CLOSING] = asyncio.Event()
    app.on_shutdown.append(_end_streams)
    for server in McpServer:
        app.router.add_route("*", f"/mcp/{server.value}/mcp", _handler(server))


async def _end_streams(app: web.Application) -> None:
    """Before aiohttp waits for running handlers: end the GET streams, which never end alone."""
    app[CLOSING].set()


def _handler(server: McpServer) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        sniffer, watch = Sniffer(), Stopwatch()
        status, error = 499, ""
        try:
            response = await _serve(request, server, sniffer)
            status = response.status
            return response
        except GatewayError as err:
            status, error = err.http_status, err.message
            raise
        except web.HTTPException as exc:
            status, error = exc.status, exc.reason
            raise
        finally:
            record_call(
                request,
                McpCall(
                    server=server.value,
                    http_method=request.method,
                    path=request.path,
                    tool=sniffer.tool() or request.method,
                    status=status,
                    duration_ms=watch.elapsed_ms(),
                    client_ip=request.remote or "",
                    error=error,
                ),
            )

    return handle


async def _serve(request: web.Request, server: McpServer, sniffer: Sniffer) -> web.StreamResponse:
    gateway = gateway_of(request)
    key = zai_key(gateway.settings, server)
    if request.method not in METHODS:
        raise web.HTTPMethodNotAllowed(request.method, METHODS)
    if (request.content_length or 0) > request.client_max_size:
        raise too_large(request)
    closing = request.app[CLOSING] if request.method == "GET" else None  # only GET is endless
    if server is McpServer.VISION:
        return await request.app[LOCAL].handle(request, sniffer, closing)
    target = proxy.target_for(server, gateway.settings.zai.base_url, key)
    forwarding = proxy.forward(request, gateway.http, target, sniffer)
    answered = await cancel_on_hangup(request, forwarding, closing)
    return answered if answered is not None else web.Response(status=499)
