"""Fixtures for the simulator's own tests: `fake_google`, `fake_google_thread` and `client`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from tests.fakes.cloudcode import FakeGoogle
from tests.fakes.fixtures import fake_google, fake_google_thread  # noqa: F401  (fixtures used by these tests)
from tests.fakes_tests.helpers import EMAIL, Client


@pytest_asyncio.fixture
async def client(fake_google: FakeGoogle) -> AsyncIterator[Client]:  # noqa: F811
    fake_google.add_account(EMAIL)
    async with aiohttp.ClientSession() as session:
        yield Client(fake_google, session, fake_google.issue_token(EMAIL))
