"""An Anthropic Messages upstream (z.ai's Anthropic endpoint, Anthropic itself) with an API key.

A request from a client that spoke Anthropic is passed through (its own body, model replaced:
thinking blocks, signatures and cache_control arrive intact); any other is encoded from the
hub. Either way the answer is decoded into hub events. count_tokens uses the upstream's own
`/v1/messages/count_tokens`.
"""

from __future__ import annotations

from typing import Any

from ..accounts.store import Account
from ..core.messages import ChatRequest
from ..protocols.anthropic import outbound as anthropic
from ..routing.models import Route
from .base import EventStream, KeyedProvider

VERSION = "2023-06-01"
COUNTED = ("model", "messages", "system", "tools", "tool_choice", "thinking")


class AnthropicProvider(KeyedProvider):
    """An Anthropic Messages upstream reached with an API key."""

    def _headers(self, credential: Account) -> dict[str, str]:
        return {"x-api-key": credential.access_token, "anthropic-version": VERSION}

    def body(self, req: ChatRequest, route: Route) -> dict[str, Any]:
        raw = req.passthrough.get("anthropic")
        if raw is not None:
            return anthropic.passthrough_request(raw, model=route.upstream)
        return anthropic.encode_request(req, model=route.upstream)

    async def open_stream(self, req: ChatRequest, route: Route, credential: Account) -> EventStream:
        chunks = await self.transport.stream(
            "/v1/messages", self.body(req, route), self._headers(credential))
        return EventStream(chunks, anthropic.StreamDecoder(model=route.upstream))

    async def count_tokens(self, req: ChatRequest, route: Route, credential: Account) -> int:
        body = {k: v for k, v in self.body(req, route).items() if k in COUNTED}
        answer = await self.transport.call(
            "/v1/messages/count_tokens", body, self._headers(credential))
        return int(answer.get("input_tokens") or 0)
