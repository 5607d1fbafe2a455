"""Anthropic-compatible handlers: the Messages API, count_tokens and the model list."""

from __future__ import annotations

from aiohttp import web

from . import openai_routes
from .unbuilt import not_built


async def claude_models(request: web.Request) -> web.Response:
    """`GET /v1/models/claude`: the same list as `/v1/models` (reference §7.13)."""
    return await openai_routes.list_models(request)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/v1/messages", not_built("the Anthropic Messages API"))
    router.add_post("/v1/messages/count_tokens", not_built("Anthropic count_tokens"))
    router.add_get("/v1/models/claude", claude_models)
