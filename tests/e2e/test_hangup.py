"""A client that hangs up cancels its request at once: the gateway closes the upstream stream
within 100 ms, streaming or not, measured from the simulator's side (Record.peer_closed_at).

The upstream answers slowly (a chunk every 2 s), so only a prompt cancellation can close it in
time; a gateway that noticed the hang-up at its next write would take ~2 s.
"""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import Reply, delay, text
from tests.fakes.cloudcode import FakeGoogle

CLOSE_WITHIN = 0.1  # seconds, the bound
SLOW = Reply(text("one two three four five six", chunks=6), delay(between_chunks=2.0))


def _post(port: int, path: str, body: dict[str, object]) -> socket.socket:
    raw = json.dumps(body).encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {API_KEY}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(raw)}\r\n\r\n")
    sock.sendall(head.encode() + raw)
    return sock


def _wait_for_upstream_call(fake: FakeGoogle, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not fake.calls("streamGenerateContent"):
        assert time.monotonic() < deadline, "the upstream was never called"
        time.sleep(0.005)
    time.sleep(0.2)  # the upstream has answered its headers and first chunk by now


def _closed_after(fake: FakeGoogle, hung_up: float, timeout: float = 5.0) -> float:
    deadline = time.monotonic() + timeout
    while True:
        [record] = fake.calls("streamGenerateContent")
        if record.peer_closed_at is not None:
            return record.peer_closed_at - hung_up
        assert time.monotonic() < deadline, "the upstream connection was never closed"
        time.sleep(0.005)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {"model": "gemini-3-flash", "stream": True,
                                  "messages": [{"role": "user", "content": "count"}]}),
        ("/v1/chat/completions", {"model": "gemini-3-flash",
                                  "messages": [{"role": "user", "content": "count"}]}),
        ("/v1/messages", {"model": "gemini-3-flash", "max_tokens": 50, "stream": True,
                          "messages": [{"role": "user", "content": "count"}]}),
        ("/v1beta/models/gemini-3-flash:generateContent",
         {"contents": [{"role": "user", "parts": [{"text": "count"}]}]}),
    ],
    ids=["openai-stream", "openai-non-stream", "anthropic-stream", "gemini-non-stream"],
)
def test_hang_up_closes_the_upstream_at_once(
    gateway: Gateway, fake: FakeGoogle, path: str, body: dict[str, object]
) -> None:
    fake.script(SLOW)
    sock = _post(gateway.port, path, body)
    _wait_for_upstream_call(fake)
    hung_up = time.monotonic()
    sock.close()
    assert _closed_after(fake, hung_up) < CLOSE_WITHIN
    assert "client hung up" in gateway.log_with("client hung up")  # the 499 path, logged


def test_gateway_still_serves_after_hang_ups(gateway: Gateway, fake: FakeGoogle) -> None:
    sock = _post(gateway.port, "/v1/chat/completions", {
        "model": "gemini-3-flash", "messages": [{"role": "user", "content": "hi"}]})
    reply = sock.recv(65536).decode()
    sock.close()
    assert reply.startswith("HTTP/1.1 200")
