"""The Responses API: `POST /v1/responses` (JSON or SSE), `GET /v1/responses/{id}`, and a fast
refusal of the WebSocket transport on `GET /v1/responses`.

Thin like the other handlers: decode (with the history of `previous_response_id`), fetch URL
media, serve, encode or relay. A client that hangs up right after `response.completed` (Codex
does) is the normal end of a stream, not an error.
"""

from __future__ import annotations

from aiohttp import web

from ..core.messages import ChatResponse
from ..errors import GatewayError, InvalidRequest, NotFound
from ..protocols.openai_responses import inbound as responses
from ..protocols.openai_responses.output import encode_response
from ..protocols.openai_responses.stream import StreamEncoder
from .context import decode, gateway_of, read_json, request_id_of
from .dialects import json_response
from .media import inline_media
from .relay import assemble, relay
from .responses_store import ResponsesStore, Stored
from .unbuilt import not_built


class UpgradeRefused(GatewayError):
    """426 for a WebSocket upgrade on `/v1/responses`, so the client falls back to POST."""

    status = 426
    kind = "invalid_request"


class Responses:
    """The Responses API handlers of one app, with its bounded store of answered responses."""

    def __init__(self, store: ResponsesStore | None = None) -> None:
        self.store = store or ResponsesStore()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/responses", self.create)
        router.add_get("/v1/responses", self.refuse_websocket)
        router.add_post("/v1/responses/compact", not_built("remote compaction (Codex)"))
        router.add_get("/v1/responses/{id}", self.retrieve)

    async def create(self, request: web.Request) -> web.StreamResponse:
        gateway = gateway_of(request)
        body = await read_json(request)
        decoded = await decode(responses.decode_request, body, history=self._history(body))
        private = gateway.settings.proxy.allow_private_fetch
        chat = await inline_media(gateway.http, decoded.chat, body, allow_private=private)
        served = await gateway.serve(chat)
        ctx = decoded.context(id=f"resp_{gateway.new_id()}", created_at=int(gateway.clock()))
        headers = served.headers(request_id_of(request))
        if not chat.stream:
            resp = await assemble(served.events)
            answer = encode_response(resp, ctx)
            self._keep(decoded, resp, answer)
            return json_response(answer, headers=headers)
        encoder = StreamEncoder(ctx)
        streamed = await relay(request, served.events, encoder, headers)
        if encoder.response is not None:
            self._keep(decoded, encoder.response, encode_response(encoder.response, ctx))
        return streamed

    async def retrieve(self, request: web.Request) -> web.Response:
        response_id = request.match_info["id"]
        stored = self.store.get(response_id)
        if stored is None:
            raise NotFound(f"no stored response with id {response_id!r}")
        return json_response(stored.body)

    async def refuse_websocket(self, request: web.Request) -> web.Response:
        """Codex tries a WebSocket first; 426 makes it fall back to HTTP POST at once."""
        raise UpgradeRefused(
            "the Responses API is served over HTTP POST /v1/responses only (no WebSocket)"
        )

    def _history(self, body: object) -> responses.History:
        previous = responses.previous_response_id(body)
        if previous is None:
            return responses.History()
        stored = self.store.get(previous)
        if stored is None:
            raise InvalidRequest(
                f"unknown response id {previous!r}: responses are kept in memory only when "
                "`store` is not false, for the most recent ones, until the gateway restarts",
                path="previous_response_id",
            )
        return stored.history

    def _keep(
        self, decoded: responses.ResponsesRequest, resp: ChatResponse, answer: dict[str, object]
    ) -> None:
        if decoded.store:  # kept unless the request's `store` is false
            stored = Stored(history=decoded.history.answered(resp), body=answer)
            self.store.put(str(answer["id"]), stored)
