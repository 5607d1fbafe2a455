"""e2e fixtures: one simulator and one `agm serve` per test module (starting them costs ~1 s).

The shared gateway may fetch image URLs from loopback (`proxy.allow_private_fetch`): that is
where the tests' images are served. tests/e2e/test_fetch_guard.py checks the default refusal.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.e2e.gateway import PNG, Gateway
from tests.e2e.zai_gateway import zai, zai_gateway, zai_server  # noqa: F401 (MCP fixtures)
from tests.fakes.cloudcode import FakeGoogle, FakeGoogleThread


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogleThread() as fake:
        yield fake


@pytest.fixture(scope="module")
def gateway(fake: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = Gateway.start(
        fake, Path(tmp_path_factory.mktemp("agm")), accounts=2, allow_private_fetch=True
    )
    yield gateway
    gateway.stop()


@pytest.fixture(autouse=True)
def _fresh_fake(fake: FakeGoogle) -> None:
    fake.clear_received()


@pytest.fixture(scope="module")
def image_url() -> Iterator[str]:
    """A PNG served over loopback HTTP, for the gateway to fetch."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/pixel.png":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pixel.png"
    server.shutdown()
    server.server_close()
