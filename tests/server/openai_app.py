"""An in-process gateway on the in-loop simulator, for the OpenAI server tests (chat, legacy
completions, Responses): one account whose token is already issued, so no OAuth round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from antigravity_gateway.app import build_app
from tests.fakes.cloudcode import FakeGoogle

from .helpers import KEY, seed_account, settings_with

AUTH = {"Authorization": f"Bearer {KEY}"}
MODELS = ("gemini-3-flash", "claude-sonnet-4-6", "gemini-3.1-flash-image")


async def openai_client(aiohttp_client: Any, fake: FakeGoogle, data_dir: Path) -> TestClient:
    account = fake.add_account("a@example.com", refresh_token="rt-a")
    seed_account(
        data_dir,
        "a@example.com",
        models=MODELS,
        refresh_token="rt-a",
        access_token=fake.issue_token("a@example.com", 3600),
        project=account.project,
    )
    settings = settings_with(
        proxy={"auth_mode": "strict", "allow_private_fetch": True},  # images on loopback
        upstream={
            "cloudcode_base_urls": fake.cloudcode_base_urls,
            "oauth_token_url": fake.token_url,
            "userinfo_url": fake.userinfo_url,
            "oauth_client_id": fake.options.client_id,
            "oauth_client_secret": fake.options.client_secret,
        },
    )
    client: TestClient = await aiohttp_client(build_app(settings, data_dir))
    return client


async def healthy(client: TestClient) -> None:
    resp = await client.get("/healthz", headers=AUTH)
    assert resp.status == 200


def sse_events(raw: str) -> list[dict[str, Any]]:
    """The JSON payloads of an SSE body, `[DONE]` left out."""
    return [
        json.loads(line[6:])
        for line in raw.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]
