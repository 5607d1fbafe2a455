"""Running the real npm CLIs (Claude Code, Codex CLI, Gemini CLI) headless in e2e tests.

They are installed by `npm ci --prefix tests/e2e/clients` (see .ci/run) and run only inside a
loopback-only network namespace (`python -m tests.isolated`); elsewhere these tests skip. Each
run gets a fresh HOME so no user configuration leaks in.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.isolated import isolated

BIN = Path(__file__).resolve().parent / "clients" / "node_modules" / ".bin"


def cli_path(name: str) -> Path:
    """The CLI's executable; skips the test when it cannot be run safely here."""
    path = BIN / name
    if not path.exists():
        pytest.skip(f"{name} is not installed: run `npm ci --prefix tests/e2e/clients`")
    if not isolated():
        pytest.skip(f"{name} runs only in a loopback-only namespace: python -m tests.isolated")
    return path


def run_cli(
    name: str, args: list[str], *, home: Path, env: dict[str, str] | None = None,
    cwd: Path | None = None, timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TERM", "TMPDIR")}
    return subprocess.run(
        [str(cli_path(name)), *args], cwd=cwd or home, capture_output=True, text=True,
        timeout=timeout, env={**base, "HOME": str(home), **(env or {})}, stdin=subprocess.DEVNULL,
    )
