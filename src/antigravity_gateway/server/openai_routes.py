"""OpenAI-compatible handlers: chat completions, legacy completions, the model list and lookup;
the Responses API lives in responses_routes.py.

Thin: decode with the codec, fetch URL media, let the gateway serve, encode or relay. Images and
audio live in media_routes.py.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from msgspec.structs import replace

from ..core.messages import ChatRequest, ChatResponse
from ..errors import UnknownModel
from ..protocols.openai_chat import completions
from ..protocols.openai_chat import inbound as openai
from . import media_routes
from .context import decode, gateway_of, read_json, request_id_of
from .dialects import json_response
from .media import inline_media
from .pipeline import Served
from .relay import StreamEncoder, assemble, relay
from .responses_routes import Responses

MODEL_CREATED = 1_706_745_600  # a fixed date: the upstream does not say when a model appeared


async def chat_completions(request: web.Request) -> web.StreamResponse:
    gateway = gateway_of(request)
    body = await read_json(request)
    req = await decode(openai.decode_request, body)
    private = gateway.settings.proxy.allow_private_fetch
    req = await inline_media(gateway.http, req, body, allow_private=private)
    served = await gateway.serve(req)
    answer_id, created = f"chatcmpl-{gateway.new_id()}", int(gateway.clock())

    def encode(resp: ChatResponse) -> object:
        resp = replace(resp, id=answer_id)
        return openai.encode_response(resp, model=req.model, created=created)

    stream = openai.StreamEncoder(
        id=answer_id, model=req.model, created=created, include_usage=openai.wants_usage(body)
    )
    return await _answer(request, served, req, encode, stream)


async def legacy_completions(request: web.Request) -> web.StreamResponse:
    gateway = gateway_of(request)
    body = await read_json(request)
    req, echo = await decode(completions.decode_request, body), completions.echo_of(body)
    served = await gateway.serve(req)
    answer_id, created = f"cmpl-{gateway.new_id()}", int(gateway.clock())

    def encode(resp: ChatResponse) -> object:
        resp = replace(resp, id=answer_id)
        return completions.encode_response(resp, model=req.model, created=created, echo=echo)

    stream = completions.StreamEncoder(
        id=answer_id,
        model=req.model,
        created=created,
        include_usage=openai.wants_usage(body),
        echo=echo,
    )
    return await _answer(request, served, req, encode, stream)


async def _answer(
    request: web.Request,
    served: Served,
    req: ChatRequest,
    encode: Callable[[ChatResponse], object],
    stream: StreamEncoder,
) -> web.StreamResponse:
    """The assembled JSON answer, or the live stream when the client asked for one."""
    headers = served.headers(request_id_of(request))
    if req.stream:
        return await relay(request, served.events, stream, headers)
    return json_response(encode(await assemble(served.events)), headers=headers)


def _model(name: str) -> dict[str, object]:
    return {"id": name, "object": "model", "created": MODEL_CREATED, "owned_by": "antigravity"}


async def list_models(request: web.Request) -> web.Response:
    names = sorted(gateway_of(request).model_names())
    return json_response({"object": "list", "data": [_model(n) for n in names]})


async def get_model(request: web.Request) -> web.Response:
    """A listed model, or a name the mapping routes (e.g. gpt-4o); else a 404."""
    gateway, name = gateway_of(request), request.match_info["name"]
    if name not in gateway.model_names() and gateway.route(name).rule == "offered":
        raise UnknownModel(f"model '{name}' is not offered by any account and has no mapping")
    return json_response(_model(name))


def add_routes(router: web.UrlDispatcher) -> None:
    """`GET /v1/models` and `/v1/models/{id}` are shared with Gemini: `routes.py` registers
    them and dispatches to `list_models` / `get_model` here."""
    router.add_post("/v1/chat/completions", chat_completions)
    router.add_post("/v1/completions", legacy_completions)
    Responses().add_routes(router)
    media_routes.add_routes(router)
