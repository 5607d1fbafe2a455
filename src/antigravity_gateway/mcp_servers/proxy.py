"""Streaming reverse proxy to z.ai's MCP servers (docs/upstream.md §11.7).

Same method, body streamed up as it arrives (over `proxy.max_body_bytes` -> 413), the z.ai key
instead of the client's, MCP session and protocol headers passed both ways, the answer (JSON or
SSE) streamed back as it comes. The JSON-RPC is not read here: z.ai answers bad input in its own
protocol. An unreachable z.ai, or one refusing the configured key, gives a 502, never a 401.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from ..errors import GatewayError
from ..server.context import request_id_of, too_large
from .calls import Sniffer
from .gate import McpServer

log = logging.getLogger(__name__)

UPSTREAM_PATHS = {  # reference §10.4: z.ai's endpoints under the API host
    McpServer.WEB_SEARCH: "/api/mcp/web_search_prime/mcp",
    McpServer.WEB_READER: "/api/mcp/web_reader/mcp",
}
SESSION_HEADERS = ("Mcp-Session-Id", "MCP-Protocol-Version")
REQUEST_HEADERS = (
    "Content-Type", "Content-Length", "Accept", "User-Agent", "Last-Event-ID", *SESSION_HEADERS
)
RESPONSE_HEADERS = ("Content-Type", "Cache-Control", "Allow", *SESSION_HEADERS)
# No total timeout: an SSE stream may stay open for hours; connecting must be quick.
TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=15, sock_read=None)


class ZaiUnavailable(GatewayError):
    """z.ai's MCP server could not be reached or refused the gateway's z.ai key.

    A JSON-RPC error with 502: a 401 would make MCP clients ask their user to sign in.
    """

    status = 502
    kind = "api_error"


@dataclass(frozen=True, slots=True)
class Target:
    """Where one MCP server's requests go: the z.ai URL and the key to send."""

    url: str
    api_key: str


def target_for(server: McpServer, base_url: str, api_key: str) -> Target:
    return Target(base_url.rstrip("/") + UPSTREAM_PATHS[server], api_key)


async def forward(
    request: web.Request, http: aiohttp.ClientSession, target: Target, sniffer: Sniffer
) -> web.StreamResponse:
    limit = request.client_max_size
    body = _streamed(request, sniffer) if request.can_read_body else None
    headers = _pick(request.headers, REQUEST_HEADERS)
    headers["Authorization"] = f"Bearer {target.api_key}"
    try:
        async with http.request(
            request.method,
            target.url,
            headers=headers,
            data=body,
            timeout=TIMEOUT,
            allow_redirects=False,
        ) as upstream:
            return await _relay(request, upstream)
    except (aiohttp.ClientConnectionError, TimeoutError) as exc:
        if sniffer.total > limit:
            raise too_large(request) from exc
        reason = str(exc) or type(exc).__name__
        raise ZaiUnavailable(f"z.ai is unreachable ({target.url}): {reason}") from exc


async def _streamed(request: web.Request, sniffer: Sniffer) -> AsyncIterator[bytes]:
    limit = request.client_max_size
    async for chunk in request.content.iter_any():
        sniffer.feed(chunk)
        if sniffer.total > limit:
            raise aiohttp.ClientPayloadError("request body over proxy.max_body_bytes")
        yield chunk


async def _relay(request: web.Request, upstream: aiohttp.ClientResponse) -> web.StreamResponse:
    if upstream.status in (401, 403):  # the gateway's z.ai key, not the client's: never a 401 to it
        detail = (await upstream.content.read(500)).decode(errors="replace")
        raise ZaiUnavailable(f"z.ai refused zai.api_key (HTTP {upstream.status}): {detail}")
    headers = _pick(upstream.headers, RESPONSE_HEADERS)
    headers["X-Request-Id"] = request_id_of(request)  # prepared here: the middleware cannot add it
    response = web.StreamResponse(status=upstream.status, headers=headers)
    await response.prepare(request)
    try:
        async for chunk in upstream.content.iter_any():
            await response.write(chunk)
    except ConnectionError:
        log.info("MCP client went away; z.ai stream closed")
        upstream.close()
        return response
    except aiohttp.ClientError as exc:
        log.warning("z.ai MCP stream broke: %s", exc)
        upstream.close()
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


def _pick(
    headers: CIMultiDictProxy[str] | CIMultiDict[str], names: Iterable[str]
) -> CIMultiDict[str]:
    return CIMultiDict((name, headers[name]) for name in names if name in headers)
