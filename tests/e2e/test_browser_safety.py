"""The drive-by rule on a running gateway in the default config (loopback, auth off): web pages
cannot use it (foreign Origin 403, rebinding Host 421, non-JSON 415, CORS never `*`), while the
SDKs, loopback web apps and the dashboard's own origin still work."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes.cloudcode import FakeGoogle

CHAT = {"model": "gemini-3-flash", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def default_gateway(
    fake: FakeGoogle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    gateway = Gateway.start(fake, Path(tmp_path_factory.mktemp("agm")), auth_mode="auto")
    yield gateway
    gateway.stop()


def call(
    port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, path, body=body, headers={"Host": f"127.0.0.1:{port}", **headers})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def test_cross_origin_text_plain_post_is_refused(
    default_gateway: Gateway, fake: FakeGoogle
) -> None:
    """What a page's `fetch(url, {method: "POST", body: JSON.stringify(...)})` sends."""
    status, headers, body = call(default_gateway.port, "POST", "/v1/chat/completions", {
        "Origin": "http://evil.example", "Content-Type": "text/plain;charset=UTF-8",
        "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors"}, json.dumps(CHAT).encode())
    assert status == 403
    assert "access-control-allow-origin" not in headers
    assert "proxy.cors_origins" in json.loads(body)["error"]["message"]
    assert not fake.calls("streamGenerateContent")  # no quota spent


def test_foreign_preflight_gets_no_cors_headers(default_gateway: Gateway) -> None:
    status, headers, _ = call(default_gateway.port, "OPTIONS", "/v1/chat/completions", {
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 403
    assert not any(h.startswith("access-control-") for h in headers)


def test_text_plain_body_is_415_even_without_origin(default_gateway: Gateway) -> None:
    status, _, body = call(default_gateway.port, "POST", "/v1/messages",
                           {"Content-Type": "text/plain"}, json.dumps(CHAT).encode())
    assert status == 415
    assert json.loads(body)["type"] == "error"  # in the client's protocol (Anthropic here)


def test_cross_site_subresource_without_origin_is_refused(default_gateway: Gateway) -> None:
    """`<img src=http://127.0.0.1:8045/v1/models>`: no Origin, but Sec-Fetch-Site says it."""
    status, _, _ = call(default_gateway.port, "GET", "/v1/models", {
        "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"})
    assert status == 403
    status, _, _ = call(default_gateway.port, "GET", "/healthz", {
        "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert status == 200  # a link to the gateway still opens


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8045", "attacker.test."])
def test_rebinding_host_is_refused(default_gateway: Gateway, fake: FakeGoogle, host: str) -> None:
    """DNS rebinding: the page's own origin, so no Origin check applies; the Host tells."""
    for method, path, body in (("GET", "/v1/models", None),
                               ("POST", "/v1/chat/completions", json.dumps(CHAT).encode())):
        status, headers, raw = call(default_gateway.port, method, path, {
            "Host": host, "Content-Type": "application/json"}, body)
        assert status == 421, (host, path)
        assert "proxy.allowed_hosts" in json.loads(raw)["error"]["message"]
    assert not fake.calls("streamGenerateContent")


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000",
                                    "http://[::1]:8080"])
def test_loopback_origins_get_cors(default_gateway: Gateway, origin: str) -> None:
    port = default_gateway.port
    status, headers, _ = call(port, "OPTIONS", "/v1/chat/completions", {
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert status == 204
    assert headers["access-control-allow-origin"] == origin
    assert "authorization" in headers["access-control-allow-headers"]
    status, headers, body = call(port, "POST", "/v1/chat/completions", {
        "Origin": origin, "Content-Type": "application/json"}, json.dumps(CHAT).encode())
    assert status == 200
    assert headers["access-control-allow-origin"] == origin
    assert headers["vary"] == "Origin"
    assert json.loads(body)["choices"][0]["message"]["content"]


def test_the_dashboards_own_origin_passes(default_gateway: Gateway) -> None:
    port = default_gateway.port
    status, headers, _ = call(port, "GET", "/v1/models", {
        "Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"})
    assert status == 200
    assert headers.get("access-control-allow-origin") != "*"


def test_sdks_work_in_the_default_config(default_gateway: Gateway) -> None:
    url = default_gateway.url
    chat = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    reply = chat.chat.completions.create(model="gemini-3-flash",
                                         messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content
    claude = anthropic.Anthropic(base_url=url, api_key="unused", max_retries=0)
    message = claude.messages.create(model="gemini-3-flash", max_tokens=20,
                                     messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].text  # type: ignore[union-attr]
    gemini = genai.Client(api_key="unused", http_options=types.HttpOptions(base_url=url))
    assert gemini.models.generate_content(model="gemini-3-flash", contents="hi").text


def test_configured_origins_and_hosts(fake: FakeGoogle, tmp_path: Path) -> None:
    gateway = Gateway.start(fake, tmp_path, auth_mode="auto", cors_origins=["https://app.example"],
                            allowed_hosts=["gateway.internal"])
    try:
        port = gateway.port
        status, headers, _ = call(port, "GET", "/v1/models", {"Origin": "https://app.example"})
        assert (status, headers["access-control-allow-origin"]) == (200, "https://app.example")
        assert call(port, "GET", "/v1/models", {"Host": f"gateway.internal:{port}"})[0] == 200
        assert call(port, "GET", "/v1/models", {"Origin": "https://other.example"})[0] == 403
    finally:
        gateway.stop()


def test_lan_access_allows_this_machines_names(fake: FakeGoogle, tmp_path: Path) -> None:
    gateway = Gateway.start(fake, tmp_path, allow_lan_access=True)
    try:
        port, auth = gateway.port, {"Authorization": f"Bearer {API_KEY}"}
        name = socket.gethostname()
        assert call(port, "GET", "/v1/models", {**auth, "Host": f"{name}:{port}"})[0] == 200
        assert call(port, "GET", "/v1/models", {**auth, "Host": f"evil.example:{port}"})[0] == 421
    finally:
        gateway.stop()
