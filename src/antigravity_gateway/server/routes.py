"""Every route the README lists: the shared ones here, each protocol's in its own module.

Order matters where paths overlap: fixed paths (`/v1/models/claude`, `/v1/models/detect`) are
registered before the `{name}` patterns. Routes whose capability is not built yet answer 501 in
the client's protocol (never a bare 404).
"""

from __future__ import annotations

from aiohttp import web

from .. import __version__
from . import (
    admin,
    admin_accounts,
    anthropic_routes,
    gemini_routes,
    internal_routes,
    openai_routes,
)
from .dialects import Dialect, dialect_of, json_response


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
    return json_response({"name": "antigravity-gateway", "version": __version__})


async def list_models(request: web.Request) -> web.StreamResponse:
    """`GET /v1/models`: Gemini's model list (google-genai's default path) or OpenAI's."""
    if dialect_of(request) is Dialect.GEMINI:
        return await gemini_routes.list_models(request)
    return await openai_routes.list_models(request)


async def get_model(request: web.Request) -> web.StreamResponse:
    """`GET /v1/models/{name}`: Gemini's get-model or OpenAI's retrieve-model, by dialect."""
    if dialect_of(request) is Dialect.GEMINI:
        return await gemini_routes.get_model(request)
    return await openai_routes.get_model(request)


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_route("HEAD", "/", root)
    r.add_get("/", root, allow_head=False)
    r.add_get("/healthz", health)
    r.add_get("/health", health)
    anthropic_routes.add_routes(r)
    internal_routes.add_routes(r)  # /v1/models/detect before the {name} patterns
    r.add_get("/v1/models", list_models)
    openai_routes.add_routes(r)
    gemini_routes.add_routes(r)
    r.add_get("/v1/models/{name}", get_model)
    r.add_post("/v1/api/event_logging", silent_ok)
    r.add_post("/v1/api/event_logging/batch", silent_ok)
    admin_accounts.add_routes(app)
    admin.add_routes(r)
