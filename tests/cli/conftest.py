"""CLI fixtures: a data dir and `run`, which invokes `agm` through click's CliRunner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from antigravity_gateway import cli

Run = Callable[..., Result]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def run(data_dir: Path) -> Run:
    def invoke(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
               columns: int = 200) -> Result:
        runner = CliRunner(env={"COLUMNS": str(columns), "AGM_DATA_DIR": str(data_dir),
                                **(env or {})})
        return runner.invoke(cli.main, list(args), input=stdin, catch_exceptions=False)

    return invoke
