"""Every route of INTERFACE.md, registered in one table.

Routes whose capability is not built yet answer 501 in the client's protocol with a message
saying so (never a bare 404), so a client learns at once what this version does not do.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from .. import __version__
from ..errors import NotImplementedYet
from . import openai_routes
from .dialects import json_response


def _not_built(what: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise NotImplementedYet(
            f"{what} is not implemented in antigravity-manager {__version__} yet"
        )

    return handler


async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok", "version": __version__})


async def silent_ok(request: web.Request) -> web.Response:
    """Client telemetry sinks: accepted and dropped."""
    await request.read()
    return web.Response(status=200)


async def root(request: web.Request) -> web.StreamResponse:
    if request.method == "HEAD":
        return web.Response(status=200)
    if "text/html" in request.headers.get("Accept", ""):
        raise web.HTTPFound("/ui/")
    return json_response({"name": "antigravity-manager", "version": __version__})


async def claude_models(request: web.Request) -> web.Response:
    """`GET /v1/models/claude`: the same list as `/v1/models` (reference §7.13)."""
    return await openai_routes.list_models(request)


async def gemini_model_get(request: web.Request) -> web.StreamResponse:
    if request.match_info["name"] == "claude":
        return await claude_models(request)
    raise NotImplementedYet("the Gemini model API (GET /v1/models/{model}) is not implemented yet")


def add_routes(app: web.Application) -> None:
    gemini = _not_built("the Gemini-native API")
    r = app.router
    r.add_route("HEAD", "/", root)
    r.add_get("/", root, allow_head=False)
    r.add_get("/healthz", health)
    r.add_get("/health", health)
    # OpenAI
    r.add_get("/v1/models", openai_routes.list_models)
    r.add_post("/v1/chat/completions", openai_routes.chat_completions)
    r.add_post("/v1/completions", _not_built("/v1/completions (legacy completions)"))
    r.add_post("/v1/responses", _not_built("the Responses API (/v1/responses)"))
    r.add_get("/v1/responses", _not_built("the Responses API over WebSocket"))
    r.add_post("/v1/images/generations", _not_built("image generation"))
    r.add_post("/v1/images/edits", _not_built("image edits"))
    r.add_post("/v1/audio/transcriptions", _not_built("audio transcription"))
    # Anthropic
    r.add_post("/v1/messages", _not_built("the Anthropic Messages API"))
    r.add_post("/v1/messages/count_tokens", _not_built("Anthropic count_tokens"))
    r.add_get("/v1/models/claude", claude_models)
    r.add_post("/v1/models/detect", _not_built("model detection"))
    # Gemini, under both API versions
    for version in ("v1beta", "v1"):
        if version == "v1beta":
            r.add_get("/v1beta/models", gemini)
        r.add_get(f"/{version}/models/{{name}}", gemini_model_get)
        r.add_post(f"/{version}/models/{{name}}", gemini)
        r.add_post(f"/{version}/models/{{name}}/countTokens", gemini)
    # MCP, internal, telemetry, admin, metrics
    for server in ("web_search_prime", "web_reader", "zai-mcp-server"):
        r.add_route("*", f"/mcp/{server}/mcp", _not_built(f"the MCP server {server}"))
    r.add_post("/internal/warmup", _not_built("account warmup"))
    r.add_post("/v1/api/event_logging", silent_ok)
    r.add_post("/v1/api/event_logging/batch", silent_ok)
    r.add_route("*", "/api/{tail:.*}", _not_built("the admin API"))
    r.add_get("/ui/{tail:.*}", _not_built("the dashboard"))
    r.add_get("/metrics", _not_built("Prometheus metrics"))
