"""Gemini-native handlers under both `/v1beta/` and `/v1/` (google-genai defaults to `/v1`).

`POST …/models/{model}:{method}` decodes with the Gemini codec and serves through the same
pipeline as every protocol. streamGenerateContent answers SSE with `alt=sse`, otherwise one JSON
array written as the answer streams (google-generativeai asks with `$alt=json;enum-encoding=int`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core.messages import Family
from ..errors import NotFound
from ..protocols.gemini import inbound as gemini
from ..protocols.gemini.families import spec_for
from .context import decode, gateway_of, read_json, request_id_of
from .dialects import json_response
from .pipeline import Gateway
from .relay import assemble, relay

METHODS = ("generateContent", "streamGenerateContent", "countTokens")
JSON_TYPE = "application/json; charset=utf-8"
_INPUT_LIMITS = {"gemini": 1_048_576, "claude": 200_000, "other": 114_000}


def split_target(name: str) -> tuple[str, str]:
    """`models/gemini-3-flash:generateContent` -> ("gemini-3-flash", "generateContent");
    also the `…/countTokens` slash form."""
    model, colon, method = name.rpartition(":")
    if not colon:
        model, slash, method = name.rpartition("/")
        if not slash:
            model, method = name, ""
    return model_id(model), method


def model_id(name: str) -> str:
    """A model resource name without its `models/` prefix (clients sometimes double it)."""
    while name.startswith("models/"):
        name = name.removeprefix("models/")
    return name


def wants_sse(request: web.Request) -> bool:
    """`?alt=sse` (or Google's system-parameter spelling `$alt=sse`)."""
    alt = request.query.get("alt") or request.query.get("$alt") or ""
    return alt.split(";", 1)[0].strip().lower() == "sse"


async def model_action(request: web.Request) -> web.StreamResponse:
    model, method = split_target(request.match_info["name"])
    if method not in METHODS:
        raise NotFound(f"unknown method '{method}'; use one of {', '.join(METHODS)}")
    if method == "countTokens":
        return await count_tokens(request, model)
    return await generate(request, model, stream=method == "streamGenerateContent")


def signature_family(gateway: Gateway, model: str) -> Family:
    """Who issued the client's thoughtSignatures: the family of the model it is routed to."""
    return spec_for(gateway.route(model).upstream).family


async def generate(request: web.Request, model: str, *, stream: bool) -> web.StreamResponse:
    gateway = gateway_of(request)
    body = await read_json(request)
    family = signature_family(gateway, model)
    req = await decode(gemini.decode_request, body, model=model, stream=stream, family=family)
    served = await gateway.serve(req)
    headers = served.headers(request_id_of(request))
    upstream = served.route.upstream
    thoughts = req.reasoning is not None and req.reasoning.include_thoughts  # Gemini's default
    if not stream:
        resp = await assemble(served.events)
        body = gemini.encode_response(resp, model=upstream, thoughts=thoughts)
        return json_response(body, headers=headers)
    sse = wants_sse(request)
    if not sse:
        headers["Content-Type"] = JSON_TYPE
    framing: gemini.Framing = "sse" if sse else "array"
    encoder = gemini.StreamEncoder(framing=framing, model=upstream, thoughts=thoughts)
    return await relay(request, served.events, encoder, headers)


async def count_tokens(request: web.Request, model: str) -> web.Response:
    gateway = gateway_of(request)
    body = await read_json(request)
    family = signature_family(gateway, model)
    req = await decode(gemini.decode_count_request, body, model=model, family=family)
    total = await gateway.count_tokens(req)
    headers = {
        "X-Mapped-Model": gateway.route(model).mapped,
        "X-Request-Id": request_id_of(request),
    }
    return json_response({"totalTokens": total}, headers=headers)


async def list_models(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    models = [describe(gateway, name) for name in sorted(gateway.model_names())]
    return json_response({"models": models})


async def get_model(request: web.Request) -> web.Response:
    name = model_id(request.match_info["name"])
    gateway_of(request).route(name)  # an unknown model is a 404 in Gemini's shape
    return json_response(describe(gateway_of(request), name))


def describe(gateway: Gateway, name: str) -> dict[str, Any]:
    """A Gemini `Model` resource; limits from an account's quota snapshot, else the family's."""
    upstream = gateway.route(name).upstream
    spec = spec_for(upstream)
    snapshot = next(
        (a.quota.models[upstream] for a in gateway.pool.usable() if upstream in a.quota.models),
        None,
    )
    return {
        "name": f"models/{name}",
        "baseModelId": name,
        "version": "001",
        "displayName": (snapshot.display_name if snapshot else "") or name,
        "description": f"{name} through antigravity-gateway (upstream model {upstream})",
        "inputTokenLimit": (snapshot.max_tokens if snapshot else 0) or _INPUT_LIMITS[spec.family],
        "outputTokenLimit": (snapshot.max_output_tokens if snapshot else 0) or spec.max_output,
        "supportedGenerationMethods": list(METHODS),
        "temperature": 1.0,
        "maxTemperature": 2.0,
        "topP": 0.95,
        "topK": 64,
        "thinking": spec.thinking != "none",
    }


def add_routes(router: web.UrlDispatcher) -> None:
    """`GET /v1/models` and `GET /v1/models/{name}` are shared with OpenAI: `routes.py` sends
    Gemini clients (by their headers) to `list_models` and `get_model`."""
    router.add_get("/v1beta/models", list_models)
    router.add_get("/v1beta/models/{name:.+}", get_model)
    router.add_get("/v1/models/models/{name:.+}", get_model)
    for version in ("v1beta", "v1"):
        router.add_post(f"/{version}/models/{{name:.+}}", model_action)
