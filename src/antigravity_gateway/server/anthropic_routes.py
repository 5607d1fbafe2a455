"""Anthropic-compatible handlers: the Messages API (also `?beta=true`), count_tokens, models.

Thin: decode with the codec; answer Claude Code's warmups locally; fetch url images (media.py);
route background tasks under the `internal-background-task` mapping key; let the gateway serve;
encode the message, or relay it with `event: ping` frames while the upstream is silent.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from msgspec.structs import replace

from ..core.events import replay
from ..core.messages import ChatRequest
from ..errors import GatewayError
from ..protocols.anthropic import claude_code
from ..protocols.anthropic import inbound as anthropic
from ..protocols.anthropic.stream import StreamEncoder
from . import openai_routes, tokens
from .context import decode, gateway_of, read_json, request_id_of
from .dialects import json_response
from .media import inline_media
from .relay import SSE_HEADERS, assemble, relay

log = logging.getLogger(__name__)

PING_EVERY = 10.0  # seconds of upstream silence before an `event: ping` frame
WARMUP_HEADER = "X-Warmup-Intercepted"


async def messages(request: web.Request) -> web.StreamResponse:
    gateway = gateway_of(request)
    body = await read_json(request)
    req = with_raw_body(await decode(anthropic.decode_request, body), body)
    request_id = request_id_of(request)
    if claude_code.is_warmup(req):
        return _warmup(req, f"msg_warmup_{gateway.new_id()}", request_id)
    private = gateway.settings.proxy.allow_private_fetch
    routed = await inline_media(gateway.http, req, body, allow_private=private)  # bytes upstream
    if claude_code.is_background_task(routed):
        routed = claude_code.as_background_task(routed)
        log.info("[%s] background task: routed as %s", request_id, routed.model)
    served = await gateway.serve(routed)
    headers = {**served.headers(request_id), "request-id": request_id}
    message_id = f"msg_{gateway.new_id()}"
    if not req.stream:
        resp = replace(await assemble(served.events), id=message_id)
        return json_response(anthropic.encode_response(resp, model=req.model), headers=headers)
    encoder = StreamEncoder(id=message_id, model=req.model)
    return await relay(
        request,
        served.events,
        encoder,
        headers,
        keepalive=encoder.ping,
        keepalive_every=PING_EVERY,
    )


def with_raw_body(req: ChatRequest, body: dict[str, object]) -> ChatRequest:
    """The client's own body rides along in `passthrough["anthropic"]`: an Anthropic-kind
    upstream (and z.ai dispatch, which keys on it) gets it as written."""
    return replace(req, passthrough={**req.passthrough, "anthropic": body})


def _warmup(req: ChatRequest, message_id: str, request_id: str) -> web.Response:
    """Claude Code's keep-alive turn, answered without an account (docs/upstream.md §10.4)."""
    resp = claude_code.warmup_response(message_id)
    headers = {WARMUP_HEADER: "true", "X-Request-Id": request_id}
    if not req.stream:
        return json_response(anthropic.encode_response(resp, model=req.model), headers=headers)
    encoder = StreamEncoder(id=message_id, model=req.model)
    body = b"".join(frame for event in replay(resp) for frame in encoder.feed(event))
    return web.Response(body=body, headers={**SSE_HEADERS, **headers})


async def count_tokens(request: web.Request) -> web.Response:
    """`{"input_tokens": N}`: the upstream's countTokens, else the local estimate."""
    gateway = gateway_of(request)
    body = await read_json(request)
    req = with_raw_body(await decode(anthropic.decode_request, body, counting=True), body)
    try:
        counted = await gateway.count_tokens(req)
    except GatewayError as err:
        log.info("[%s] upstream count failed (%s); counting locally", request_id_of(request), err)
        counted = 0
    if counted <= 0:
        counted = await asyncio.to_thread(tokens.estimate, req)
    return json_response({"input_tokens": counted})


async def claude_models(request: web.Request) -> web.Response:
    """`GET /v1/models/claude`: the same list as `/v1/models` (docs/upstream.md §10.4)."""
    return await openai_routes.list_models(request)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/v1/messages", messages)
    router.add_post("/v1/messages/count_tokens", count_tokens)
    router.add_get("/v1/models/claude", claude_models)
