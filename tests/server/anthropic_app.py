"""An in-process gateway on the in-loop simulator for the Anthropic server tests: two accounts
with tokens already issued (no OAuth round trip), background tasks mapped to a cheap model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from antigravity_gateway.app import build_app
from tests.fakes.cloudcode import FakeGoogle

from .helpers import KEY, seed_account, settings_with

AUTH = {"x-api-key": KEY, "anthropic-version": "2023-06-01"}
EMAILS = ("a@example.com", "b@example.com")
MODELS = ("gemini-3-flash", "gemini-2.5-flash", "claude-sonnet-4-6", "claude-opus-4-6-thinking")
CHEAP = "gemini-2.5-flash"  # where background tasks go in this configuration


async def anthropic_client(aiohttp_client: Any, fake: FakeGoogle, data_dir: Path) -> TestClient:
    for email in EMAILS:
        fake.add_account(email, refresh_token=f"rt-{email}")
        token = fake.issue_token(email, 3600)
        project = fake.account(email).project
        seed_account(data_dir, email, models=MODELS, access_token=token, project=project)
    settings = settings_with(
        proxy={"auth_mode": "strict", "allow_private_fetch": True},  # images on loopback
        upstream={"cloudcode_base_urls": fake.cloudcode_base_urls},
        models={"custom_mapping": {"internal-background-task": CHEAP}},
    )
    client: TestClient = await aiohttp_client(build_app(settings, data_dir))
    return client


def body(model: str = "gemini-3-flash", **extra: Any) -> dict[str, Any]:
    """A minimal valid Messages body."""
    return {
        "model": model,
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "hi"}],
        **extra,
    }


def sse(raw: str) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) per frame; every frame must carry its `event:` line."""
    frames = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        frames.append((lines["event"], json.loads(lines["data"])))
    return frames
