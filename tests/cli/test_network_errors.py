"""Network failures reach the user in words naming the host; long waits say so on stderr even
when it is not a terminal; OAuth calls give up connecting after 10 s."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from types import SimpleNamespace

import aiohttp
import pytest

from antigravity_gateway.accounts import oauth
from antigravity_gateway.core import network
from tests.cli.conftest import Run
from tests.cli.test_cli import one_line_error


@pytest.fixture
def silent_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """Accepts connections and never says a word (a hung token endpoint)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1], held
    listener.close()
    for conn in held:
        conn.close()


def add(run: Run, token_url: str) -> object:
    assert run("config", "set", "upstream.oauth_token_url", token_url).exit_code == 0
    return run("accounts", "add", "--refresh-token", "1//whatever")


def test_connection_refused_in_words(run: Run) -> None:
    result = add(run, "http://127.0.0.1:9/token")
    one_line_error(result, "connection refused by 127.0.0.1:9")  # type: ignore[arg-type]
    assert "ClientConnector" not in result.stderr  # type: ignore[attr-defined]


def test_hung_endpoint_times_out_and_says_it_waits(
    run: Run, silent_server: tuple[int, list[socket.socket]], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, _ = silent_server
    monkeypatch.setattr(oauth, "TIMEOUT", aiohttp.ClientTimeout(total=1.5, connect=10))
    monkeypatch.setattr(network, "NOTICE_SECONDS", 0.3)
    result = add(run, f"http://127.0.0.1:{port}/token")
    lines = result.stderr.splitlines()  # type: ignore[attr-defined]
    assert lines[0] == f"waiting for 127.0.0.1:{port}..."
    assert lines[-1] == (f"error: OAuth endpoint unreachable: timed out after 1.5 s waiting "
                         f"for 127.0.0.1:{port}")


def test_tls_error_in_words(run: Run, silent_server: tuple[int, list[socket.socket]]) -> None:
    port, held = silent_server
    threading.Thread(target=lambda: _answer_plain_http(held), daemon=True).start()
    result = add(run, f"https://127.0.0.1:{port}/token")
    one_line_error(result, f"TLS error with 127.0.0.1:{port}")  # type: ignore[arg-type]


def _answer_plain_http(held: list[socket.socket]) -> None:
    import time

    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        time.sleep(0.01)
    if held:
        held[0].sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def test_oauth_connect_timeout_is_10_seconds() -> None:
    assert oauth.TIMEOUT.connect == 10


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (aiohttp.ClientConnectorDNSError(SimpleNamespace(host="h.example", port=443, ssl=True),
                                         OSError(-2, "Name or service not known")),
         "DNS lookup failed for h.example (no such host?)"),
        (aiohttp.ConnectionTimeoutError(), "timed out after 10 s connecting to h.example"),
        (TimeoutError(), "timed out after 60 s waiting for h.example"),
        (aiohttp.ServerDisconnectedError(), "h.example closed the connection without answering"),
    ],
)
def test_describe(exc: BaseException, words: str) -> None:
    assert network.describe(exc, "https://h.example/token", oauth.TIMEOUT) == words


def test_no_notice_without_a_notifier() -> None:
    import asyncio

    async def call() -> None:
        async with network.waiting_for("http://x"):
            await asyncio.sleep(0)

    asyncio.run(call())  # nothing installed: nothing printed, nothing scheduled
