"""The public Gemini API with an API key (`generativelanguage.googleapis.com` or compatible).

The same Gemini codec Cloud Code uses, without the v1internal envelope: `base_url` is the host
root (a trailing `/v1beta` or `/v1` is kept as given), the key goes in `x-goog-api-key`.
"""

from __future__ import annotations

from ..accounts.store import Account
from ..core.messages import ChatRequest
from ..protocols.gemini import outbound as gemini
from ..routing.models import Route
from .base import EventStream, KeyedProvider
from .http import Transport


class GeminiApiProvider(KeyedProvider):
    """The public Gemini API reached with an API key, without the v1internal envelope."""

    def __init__(self, transport: Transport, models: list[str]) -> None:
        super().__init__(transport, models)
        versioned = transport.base_url.endswith(("/v1beta", "/v1"))
        self._prefix = "" if versioned else "/v1beta"

    async def open_stream(self, req: ChatRequest, route: Route, credential: Account) -> EventStream:
        body = dict(gemini.encode_request(req, model=route.upstream))
        path = f"{self._prefix}/models/{route.upstream}:streamGenerateContent?alt=sse"
        chunks = await self.transport.stream(path, body, self._headers(credential))
        return EventStream(chunks, gemini.StreamDecoder(model=route.upstream))

    async def count_tokens(self, req: ChatRequest, route: Route, credential: Account) -> int:
        contents = gemini.encode_count_contents(req, model=route.upstream)
        path = f"{self._prefix}/models/{route.upstream}:countTokens"
        answer = await self.transport.call(path, {"contents": contents}, self._headers(credential))
        return int(answer.get("totalTokens") or 0)

    def _headers(self, credential: Account) -> dict[str, str]:
        return {"x-goog-api-key": credential.access_token}
