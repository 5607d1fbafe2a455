"""The `h` harness: an AccountService against the in-loop Google simulator, in a temp data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from antigravity_gateway.providers import wire
from tests.accounts.helpers import Harness
from tests.fakes.cloudcode import FakeGoogle


@pytest.fixture
async def h(fake_google: FakeGoogle, tmp_path: Path) -> AsyncIterator[Harness]:
    async with aiohttp.ClientSession() as session, wire.Client() as upstream:
        yield Harness(fake_google, session, upstream, tmp_path)
