"""ruff and mypy (strict on src/) are part of the test run, so CI keeps them clean.

Both run from this interpreter's environment (`python -m ...`), so they are found even when the
virtual environment is not activated (the README runs `.venv/bin/python -m tests.isolated`).
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "command",
    [[sys.executable, "-m", "ruff", "check", "src", "tests"], [sys.executable, "-m", "mypy"]],
    ids=["ruff", "mypy"],
)
def test_clean(command: list[str]) -> None:
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
