"""Fixtures for the MCP e2e tests: the fake z.ai, and `agm serve` configured to use it.

Loaded by tests/e2e/conftest.py; nothing starts unless a test asks for `zai` or `zai_gateway`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.gateway import Gateway
from tests.fakes.cloudcode import FakeGoogle
from tests.fakes.zai import ZAI_KEY, FakeZai, FakeZaiThread


def zai_section(zai: FakeZai, **mcp: bool) -> dict[str, object]:
    return {
        "zai": {
            "enabled": True, "api_key": ZAI_KEY, "base_url": zai.base_url,
            "mcp": {"enabled": True, **mcp},
        }
    }


@pytest.fixture(scope="module")
def zai_server() -> Iterator[FakeZai]:
    with FakeZaiThread() as fake:
        yield fake


@pytest.fixture
def zai(zai_server: FakeZai) -> FakeZai:
    """The module's fake z.ai, with nothing recorded or scripted yet."""
    zai_server.clear()
    return zai_server


@pytest.fixture(scope="module")
def zai_gateway(
    fake: FakeGoogle, zai_server: FakeZai, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    data_dir = Path(tmp_path_factory.mktemp("agm"))
    gateway = Gateway.start(fake, data_dir, accounts=1, sections=zai_section(zai_server))
    yield gateway
    gateway.stop()
    log = gateway.log.read_text()
    assert "Traceback" not in log and "unhandled" not in log, log

