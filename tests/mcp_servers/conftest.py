"""In-process gateway (a real socket, same loop) with the fake z.ai, for the MCP route tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from antigravity_gateway.app import build_app
from tests.e2e.zai_gateway import zai, zai_section, zai_server  # noqa: F401 (fixtures)
from tests.fakes.zai import FakeZai
from tests.server.helpers import KEY, settings_with

AUTH = {"Authorization": f"Bearer {KEY}"}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
MakeClient = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_client(aiohttp_client: Any, tmp_path: Path, zai: FakeZai) -> MakeClient:  # noqa: F811
    """`await make_client(zai_settings=None, **proxy)`: None = z.ai configured, every server on."""

    async def make(zai_settings: dict[str, Any] | None = None, **proxy: Any) -> TestClient:
        section = zai_section(zai)["zai"] if zai_settings is None else zai_settings
        settings = settings_with(proxy={"auth_mode": "strict", **proxy}, zai=section)  # type: ignore[arg-type]
        client: TestClient = await aiohttp_client(build_app(settings, tmp_path))
        return client

    return make
