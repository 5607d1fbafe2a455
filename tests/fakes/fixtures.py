"""pytest fixtures for the Google simulator; load with `pytest_plugins = ["tests.fakes.fixtures"]`.

`fake_google` serves in the test's own event loop (async tests); `fake_google_thread` serves from a
background thread (sync tests, e.g. the sync openai SDK against a gateway subprocess). Both start
empty: tests add accounts (or call `seed_accounts(fake, n)`) themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.fakes.cloudcode import FakeGoogle, FakeGoogleThread, run_fake


@pytest_asyncio.fixture
async def fake_google() -> AsyncIterator[FakeGoogle]:
    async with run_fake() as fake:
        yield fake


@pytest.fixture
def fake_google_thread() -> Iterator[FakeGoogle]:
    with FakeGoogleThread() as fake:
        yield fake
