"""OpenAI-compatible handlers: chat completions and the model list.

Thin: decode with the codec, let the gateway serve, encode or relay. Legacy completions, the
Responses API, images and audio answer 501 until built.
"""

from __future__ import annotations

from dataclasses import replace

from aiohttp import web

from ..protocols.openai_chat import inbound as openai
from .context import gateway_of, read_json, request_id_of
from .dialects import json_response
from .relay import assemble, relay
from .unbuilt import not_built

MODEL_CREATED = 1_706_745_600  # a fixed date: the upstream does not say when a model appeared


async def chat_completions(request: web.Request) -> web.StreamResponse:
    gateway = gateway_of(request)
    body = await read_json(request)
    req = openai.decode_request(body)
    served = await gateway.serve(req)
    headers = served.headers(request_id_of(request))
    created = int(gateway.clock())
    completion_id = f"chatcmpl-{gateway.new_id()}"
    if not req.stream:
        resp = replace(await assemble(served.events), id=completion_id)
        return json_response(
            openai.encode_response(resp, model=req.model, created=created), headers=headers
        )
    encoder = openai.StreamEncoder(
        id=completion_id,
        model=req.model,
        created=created,
        include_usage=openai.wants_usage(body),
    )
    return await relay(request, served.events, encoder, headers)


async def list_models(request: web.Request) -> web.Response:
    gateway = gateway_of(request)
    names = sorted(gateway.model_names())
    data = [
        {"id": n, "object": "model", "created": MODEL_CREATED, "owned_by": "antigravity"}
        for n in names
    ]
    return json_response({"object": "list", "data": data})


get_model = not_built("GET /v1/models/{id}")


def add_routes(router: web.UrlDispatcher) -> None:
    """`GET /v1/models/{id}` is shared with Gemini and registered in `routes.py`."""
    router.add_get("/v1/models", list_models)
    router.add_post("/v1/chat/completions", chat_completions)
    router.add_post("/v1/completions", not_built("/v1/completions (legacy completions)"))
    router.add_post("/v1/responses", not_built("the Responses API (/v1/responses)"))
    router.add_get("/v1/responses", not_built("the Responses API over WebSocket"))
    router.add_post("/v1/images/generations", not_built("image generation"))
    router.add_post("/v1/images/edits", not_built("image edits"))
    router.add_post("/v1/audio/transcriptions", not_built("audio transcription"))
