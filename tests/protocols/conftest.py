"""Options and fixtures for the protocol codec tests."""

from __future__ import annotations

import contextlib

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    with contextlib.suppress(ValueError):  # another conftest may have registered it already
        parser.addoption(
            "--update-golden",
            action="store_true",
            help="rewrite the expected files under tests/golden/ from the codecs' current output",
        )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden", default=False))
