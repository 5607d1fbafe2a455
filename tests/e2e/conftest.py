"""e2e fixtures: one simulator and one `agm serve` per test module (starting them costs ~1 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.gateway import Gateway
from tests.e2e.zai_gateway import zai, zai_gateway, zai_server  # noqa: F401 (MCP fixtures)
from tests.fakes.cloudcode import FakeGoogle, FakeGoogleThread


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogleThread() as fake:
        yield fake


@pytest.fixture(scope="module")
def gateway(fake: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = Gateway.start(fake, Path(tmp_path_factory.mktemp("agm")), accounts=2)
    yield gateway
    gateway.stop()


@pytest.fixture(autouse=True)
def _fresh_fake(fake: FakeGoogle) -> None:
    fake.clear_received()
