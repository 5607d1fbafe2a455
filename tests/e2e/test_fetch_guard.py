"""Image URLs cannot make the running gateway reach loopback or private services, and the
refusal reads the same whether something listens there or not (no port scanner)."""

from __future__ import annotations

import json
import re
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.gateway import API_KEY, Gateway, free_port
from tests.fakes.cloudcode import FakeGoogle


@pytest.fixture(scope="module")
def gateway(fake: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """The default config: private fetches refused (the shared e2e gateway allows them)."""
    gateway = Gateway.start(fake, Path(tmp_path_factory.mktemp("agm")))
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def image_port(image_url: str) -> int:
    return int(image_url.split(":")[2].split("/")[0])


def _chat(gateway: Gateway, url: str) -> tuple[int, dict[str, object]]:
    body = {"model": "gemini-3-flash", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": url}}]}]}
    request = urllib.request.Request(
        f"{gateway.url}/v1/chat/completions", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_loopback_image_url_is_refused_without_revealing_the_port(
    gateway: Gateway, fake: FakeGoogle, image_port: int
) -> None:
    closed = free_port()
    answers = {}
    for port in (image_port, closed):
        status, body = _chat(gateway, f"http://127.0.0.1:{port}/pixel.png")
        assert status == 400
        error = body["error"]
        assert isinstance(error, dict)
        assert error["param"] == "messages[0].content[1].image_url.url"
        answers[port] = re.sub(r"127\.0\.0\.1:\d+", "HOST", str(error["message"]))
    assert answers[image_port] == answers[closed]  # open or closed: the same words
    assert "allow_private_fetch" in answers[closed]
    assert not fake.calls("streamGenerateContent")


@pytest.mark.parametrize("url", [
    "http://localhost:{port}/pixel.png", "http://[::1]:{port}/pixel.png",
    "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/x.png",
    "http://192.168.0.1/x.png", "http://0.0.0.0:{port}/pixel.png", "http://2130706433:{port}/x",
])
def test_private_and_metadata_addresses_are_refused(
    gateway: Gateway, image_port: int, url: str
) -> None:
    status, body = _chat(gateway, url.format(port=image_port))
    assert status == 400
    assert "allow_private_fetch" in str(body["error"])


def test_the_gateway_is_healthy_after(gateway: Gateway) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5):
        pass
    status, _ = _chat(gateway, "data:image/png;base64,iVBORw0KGgo=")
    assert status == 200


def test_allow_private_fetch_lets_loopback_images_through(  # last: it re-adds the account
    fake: FakeGoogle, tmp_path: Path, image_port: int
) -> None:
    gateway = Gateway.start(fake, tmp_path, allow_private_fetch=True)
    try:
        status, _ = _chat(gateway, f"http://localhost:{image_port}/pixel.png")
        assert status == 200
        [call] = fake.calls("streamGenerateContent")
        parts = call.request["contents"][0]["parts"]
        assert any("inlineData" in p for p in parts)
    finally:
        gateway.stop()
