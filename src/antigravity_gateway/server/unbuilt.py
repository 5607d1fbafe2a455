"""Answers for what is not (or not here): 501 for capabilities not built yet, a 404 that says
where to look for an unknown path, a 405 naming the methods that work. Never a bare 404."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Handler

from .. import __version__
from ..errors import GatewayError, NotFound, NotImplementedYet

MCP_SERVERS = ("web_search_prime", "web_reader", "zai-mcp-server")
_HINTS = (
    ("/mcp", "the MCP servers are at " + ", ".join(f"/mcp/{s}/mcp" for s in MCP_SERVERS)),
    ("/v1beta/", "Gemini routes: /v1beta/models and /v1beta/models/{model}:generateContent"),
    ("/v1/messages", "Anthropic routes: POST /v1/messages, POST /v1/messages/count_tokens"),
    ("/v1/", "OpenAI routes: /v1/chat/completions, /v1/responses, /v1/completions, /v1/models"),
)


_METHOD_ORDER = {m: i for i, m in enumerate(("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"))}


class MethodNotAllowed(GatewayError):
    """405: the path exists but not for this method."""

    status = 405
    kind = "invalid_request"


def not_built(what: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise NotImplementedYet(
            f"{what} is not implemented in antigravity-gateway {__version__} yet"
        )

    return handler


def no_route(request: web.Request) -> NotFound:
    """The 404 for a path nothing serves, with a hint at the routes near it."""
    hint = next((h for prefix, h in _HINTS if request.path.startswith(prefix)), "")
    return NotFound(f"no route for {request.method} {request.path}"
                    + (f"; {hint}" if hint else "; see GET / and the README's route table"))


def wrong_method(request: web.Request, allowed: Iterable[str]) -> MethodNotAllowed:
    """The 405 naming the methods the path does answer (HEAD only when GET is not there)."""
    methods = set(allowed)
    if "GET" in methods:
        methods.discard("HEAD")
    listed = sorted(methods, key=lambda m: (_METHOD_ORDER.get(m, len(_METHOD_ORDER)), m))
    return MethodNotAllowed(f"{request.method} is not allowed on {request.path}; "
                            f"use {', '.join(listed)}")
