"""An OpenAI-compatible chat completions upstream (vLLM, Ollama, OpenRouter, DeepSeek...).

Requests are encoded from the hub and always streamed with usage; `base_url` is the API root
the server documents (e.g. `https://openrouter.ai/api/v1`). The format has no count call:
count_tokens answers 0 and the gateway counts locally.
"""

from __future__ import annotations

from ..accounts.store import Account
from ..core.messages import ChatRequest
from ..protocols.openai_chat import outbound as openai
from ..routing.models import Route
from .base import EventStream, KeyedProvider


class OpenAIProvider(KeyedProvider):
    """An OpenAI-compatible chat completions upstream reached with an API key."""

    async def open_stream(self, req: ChatRequest, route: Route, credential: Account) -> EventStream:
        body = openai.encode_request(req, model=route.upstream)
        headers = {"Authorization": f"Bearer {credential.access_token}"}
        chunks = await self.transport.stream("/chat/completions", body, headers)
        return EventStream(chunks, openai.StreamDecoder(model=route.upstream))

    async def count_tokens(self, req: ChatRequest, route: Route, credential: Account) -> int:
        return 0
