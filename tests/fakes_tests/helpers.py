"""Helpers for the simulator's tests: an aiohttp client logged in as one account, envelopes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.fakes.cloudcode import FakeGoogle

EMAIL = "user1@example.com"


@dataclass
class Client:
    """Speaks to the fake as account EMAIL; `call()` returns (status, headers, raw body)."""

    fake: FakeGoogle
    session: aiohttp.ClientSession
    token: str

    async def call(
        self,
        method: str,
        body: Any = None,
        host: str = "prod",
        token: str | None = None,
        query: str = "",
    ) -> tuple[int, Any, bytes]:
        url = f"{self.fake.url(host)}/v1internal:{method}{query}"
        headers = {"Authorization": f"Bearer {token or self.token}"}
        async with self.session.post(
            url, json=body if body is not None else {}, headers=headers
        ) as response:
            return response.status, response.headers, await response.read()

    async def json(self, method: str, body: Any = None, **options: Any) -> tuple[int, Any]:
        status, _, raw = await self.call(method, body, **options)
        return status, json.loads(raw)

    async def stream(self, body: Any, **options: Any) -> tuple[int, bytes]:
        status, _, raw = await self.call("streamGenerateContent", body, query="?alt=sse", **options)
        return status, raw


def envelope(
    model: str = "gemini-3-flash", *contents: dict[str, Any], **request: Any
) -> dict[str, Any]:
    """A valid generate envelope (no project); default contents: one user text."""
    turns = list(contents) or [{"role": "user", "parts": [{"text": "hello there"}]}]
    return {"model": model, "request": {"contents": turns, **request}}


def events(raw: bytes) -> list[dict[str, Any]]:
    return [json.loads(frame[len(b"data: ") :]) for frame in raw.split(b"\n\n") if frame]
