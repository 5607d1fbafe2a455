"""No body makes the gateway answer 5xx: 2,000 seeded fuzzed bodies per route, sent over HTTP to
the app (real sockets) in front of the Google simulator; plus the JSON edge cases that used to
be 500s (deep nesting, truncated deep JSON)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import given

from antigravity_gateway.app import build_app
from antigravity_gateway.server.context import MAX_DEPTH, depth_exceeds
from tests import fuzz_cases as cases
from tests.fakes.cloudcode import FakeGoogle

from .helpers import KEY, seed_account, settings_with

HEADERS = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
ROUTES = {
    "/v1/chat/completions": cases.OPENAI_CHAT,
    "/v1/completions": cases.COMPLETIONS,
    "/v1/responses": cases.RESPONSES,
    "/v1/messages": cases.ANTHROPIC,
    "/v1/messages/count_tokens": cases.ANTHROPIC_COUNT,
    "/v1beta/models/gemini-3-flash:generateContent": cases.GEMINI,
    "/v1beta/models/gemini-3-flash:countTokens": cases.GEMINI_COUNT,
}


class Harness:
    """One app + simulator on a private loop, shared by every example of the module."""

    def __init__(self, data_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.fake = FakeGoogle()
        self.client = self.loop.run_until_complete(self._start(data_dir))

    async def _start(self, data_dir: Path) -> TestClient:
        await self.fake.start()
        self.fake.add_account("a@example.com", refresh_token="rt-a")
        seed_account(data_dir, "a@example.com", refresh_token="rt-a",
                     access_token=self.fake.issue_token("a@example.com", 36000),
                     project=self.fake.account("a@example.com").project)
        settings = settings_with(
            proxy={"auth_mode": "strict", "max_wait_seconds": 0, "max_attempts": 1},
            upstream={"cloudcode_base_urls": self.fake.cloudcode_base_urls[-1:]})
        client = TestClient(TestServer(build_app(settings, data_dir)))
        await client.start_server()
        return client

    def post(self, path: str, raw: bytes) -> tuple[int, bytes]:
        async def send() -> tuple[int, bytes]:
            async with self.client.post(path, data=raw, headers=HEADERS) as resp:
                return resp.status, await resp.read()

        return self.loop.run_until_complete(send())

    def close(self) -> None:
        self.loop.run_until_complete(self.client.close())
        self.loop.run_until_complete(self.fake.stop())
        self.loop.close()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    harness = Harness(tmp_path_factory.mktemp("fuzz"))
    yield harness
    harness.close()


def _no_5xx(harness: Harness, path: str, raw: bytes) -> None:
    status, body = harness.post(path, raw)
    assert status < 500, (status, body[:300], raw[:300])


@pytest.mark.parametrize("path", list(ROUTES))
def test_fuzzed_bodies_never_get_a_5xx(harness: Harness, path: str) -> None:
    assert harness.post(path, json.dumps(ROUTES[path]).encode())[0] == 200

    @cases.FUZZ
    @given(body=cases.mutated(ROUTES[path]))
    def fuzz(body: Any) -> None:
        _no_5xx(harness, path, json.dumps(body).encode())

    fuzz()
    assert harness.post(path, json.dumps(ROUTES[path]).encode())[0] == 200  # still healthy


@pytest.mark.parametrize("path", list(ROUTES))
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 980, 1000, 100_000])
def test_deep_json_is_a_400(harness: Harness, path: str, depth: int) -> None:
    for raw in (b"[" * depth + b"]" * depth, b"[" * depth,
                b'{"messages":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"):
        status, body = harness.post(path, raw)
        assert status == 400, (path, depth, body[:200])
        message = json.dumps(json.loads(body))
        assert "nested" in message or "not valid JSON" in message


def _nested(depth: int) -> Any:
    """`depth` containers deep, dicts and lists in turn."""
    value: Any = "leaf"
    for level in range(depth):
        value = {"k": value} if level % 2 else [value]
    return value


@pytest.mark.parametrize("depth", [0, 1, 2, MAX_DEPTH, MAX_DEPTH + 1])
def test_depth_limit_counts_containers_exactly(depth: int) -> None:
    wide = {"wide": [{"a": [1]} for _ in range(50)], "deep": _nested(depth)}  # one level more
    assert depth_exceeds(_nested(depth), MAX_DEPTH) is (depth > MAX_DEPTH)
    assert depth_exceeds(wide, MAX_DEPTH) is (depth + 1 > MAX_DEPTH)
