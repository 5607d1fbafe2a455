"""`agm serve` as a process: banner, port in use, graceful stop with a request in flight."""

from __future__ import annotations

import signal
import socket
import threading
from pathlib import Path

import openai

from tests.e2e.gateway import API_KEY, Gateway, agm, free_port, write_config
from tests.fakes import Reply, delay, text
from tests.fakes.cloudcode import FakeGoogle


def test_banner_tells_how_to_connect(gateway: Gateway) -> None:
    log = gateway.log.read_text()
    assert f"listening on http://127.0.0.1:{gateway.port}" in log
    assert "auth mode: strict" in log
    assert "usable accounts: 2" in log
    assert f"{gateway.url}/v1" in log and "ANTHROPIC_BASE_URL" in log


def test_port_in_use_is_one_line_and_exit_1(fake: FakeGoogle, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        write_config(tmp_path, fake, port)
        done = agm(tmp_path, "serve")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"error: port {port} on 127.0.0.1 is already in use (set proxy.port or --port)"
    ]


def test_sigterm_lets_in_flight_requests_finish(fake: FakeGoogle, tmp_path: Path) -> None:
    gateway = Gateway.start(fake, tmp_path, accounts=1)
    fake.script(Reply(text("w1 w2 w3 w4 w5", chunks=5), delay(between_chunks=0.3)))
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)
    received: list[str] = []
    started = threading.Event()

    def consume() -> None:
        stream = client.chat.completions.create(
            model="gemini-3-flash", messages=[{"role": "user", "content": "go"}], stream=True
        )
        for chunk in stream:
            started.set()
            if chunk.choices:
                received.append(chunk.choices[0].delta.content or "")

    worker = threading.Thread(target=consume)
    worker.start()
    assert started.wait(10)
    gateway.process.send_signal(signal.SIGTERM)
    worker.join(20)
    assert "".join(received) == "w1 w2 w3 w4 w5"
    assert gateway.process.wait(20) == 0
    with socket.socket() as probe:  # nobody listens any more
        assert probe.connect_ex(("127.0.0.1", gateway.port)) != 0


def test_lan_access_binds_all_interfaces(fake: FakeGoogle, tmp_path: Path) -> None:
    gateway = Gateway.start(fake, tmp_path, accounts=0, allow_lan_access=True, auth_mode="auto")
    try:
        log = gateway.log.read_text()
        assert f"listening on http://0.0.0.0:{gateway.port}" in log
        assert "auth mode: all_except_health" in log
    finally:
        assert gateway.stop() == 0


def test_default_bind_is_loopback_only(gateway: Gateway) -> None:
    assert free_port()  # sanity
    assert f"http://127.0.0.1:{gateway.port}" in gateway.log.read_text()
