"""Gemini-native handlers under both `/v1beta/` and `/v1/` (google-genai defaults to `/v1`)."""

from __future__ import annotations

from aiohttp import web

from .unbuilt import not_built

get_model = not_built("the Gemini model API (GET /v1beta/models/{model})")


def add_routes(router: web.UrlDispatcher) -> None:
    """`GET /v1/models/{name}` is shared with OpenAI and registered in `routes.py`."""
    methods = not_built("the Gemini-native API")
    router.add_get("/v1beta/models", not_built("the Gemini model list"))
    router.add_get("/v1beta/models/{name}", get_model)
    for version in ("v1beta", "v1"):
        router.add_post(f"/{version}/models/{{name}}", methods)
        router.add_post(f"/{version}/models/{{name}}/countTokens", methods)
