"""`agm serve --workers 2` with Redis: two processes on one port sharing one pool (issue #18);
and a Redis that cannot be reached at start-up is a one-line error."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.e2e.gateway import API_KEY, Gateway, free_port, write_config
from tests.fakes import quota_exhausted
from tests.fakes.cloudcode import FakeGoogle
from tests.redis_server import RedisServer, redis_server_fixture

FLASH = "gemini-3-flash"

redis_server = pytest.fixture(scope="module")(redis_server_fixture)


@pytest.fixture(scope="module")
def gateway(
    fake: FakeGoogle, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    state = {"state": {"backend": "redis", "redis_url": redis_server.url}}
    gateway = Gateway.start(fake, Path(tmp_path_factory.mktemp("agm")), accounts=2,
                            sections=state, serve_args=("--workers", "2"))
    yield gateway
    assert gateway.stop() == 0


def ask(gateway: Gateway, content: str) -> str:
    """On a new connection each time, so the kernel spreads them over the workers."""
    with openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model=FLASH, messages=[{"role": "user", "content": content}])
        assert raw.parse().choices[0].message.content
        return raw.headers["X-Account-Email"]


def workers_of(gateway: Gateway) -> list[int]:
    done = subprocess.run(["pgrep", "-P", str(gateway.process.pid)], capture_output=True,
                          text=True, check=False)
    return [int(pid) for pid in done.stdout.split()]


def test_two_workers_serve_one_port_with_shared_state(
    gateway: Gateway, fake: FakeGoogle
) -> None:
    assert len(workers_of(gateway)) == 2
    deadline = time.monotonic() + 20
    while "usable accounts" not in gateway.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gateway.log.read_text().count("listening on") == 1  # one banner
    fake.script_for(quota_exhausted(FLASH, reset_in=7200), model=FLASH)
    ask(gateway, "first")
    [refused] = [c.email for c in fake.calls("streamGenerateContent") if c.status == 429]
    time.sleep(0.5)
    fake.clear_received()
    served = [ask(gateway, f"conversation {n}") for n in range(20)]
    assert refused not in served and len(served) == 20
    assert all(c.email != refused for c in fake.calls("streamGenerateContent"))


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_redis_that_cannot_be_reached_at_start_is_a_clear_error(
    fake: FakeGoogle, tmp_path: Path, workers: str
) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    write_config(tmp_path, fake, free_port(),
                 sections={"state": {"backend": "redis", "redis_url": nowhere}})
    done = subprocess.run(
        [sys.executable, "-m", "antigravity_gateway", "serve", "--workers", workers],
        capture_output=True, text=True, timeout=60,
        env={"AGM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: cannot reach Redis at {nowhere}")
    assert done.stderr.count("\n") == 1  # one line, no traceback, no warnings
