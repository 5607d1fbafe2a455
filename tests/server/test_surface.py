"""Every route answers something deliberate; bad input is a 4xx in the client's protocol."""

from __future__ import annotations

import pytest

from antigravity_gateway.app import build_app

from .helpers import KEY, seed_account, settings_with

AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
async def client(aiohttp_client, tmp_path):
    seed_account(tmp_path, "a@example.com", models=("gemini-3-flash", "claude-sonnet-4-6"))
    settings = settings_with(
        proxy={"auth_mode": "strict", "max_body_bytes": 4096},
        upstream={"cloudcode_base_urls": ["http://127.0.0.1:9/x"]},
    )
    return await aiohttp_client(build_app(settings, tmp_path))


async def _healthy(client) -> None:
    resp = await client.get("/healthz", headers=AUTH)
    assert resp.status == 200
    assert (await resp.json())["status"] == "ok"


@pytest.mark.parametrize(
    ("method", "path", "check"),
    [
        ("POST", "/v1/responses/compact", lambda b: b["error"]["message"]),
    ],
)
async def test_unbuilt_routes_answer_501(client, method, path, check) -> None:
    resp = await client.request(method, path, headers=AUTH, json={})
    assert resp.status == 501
    assert check(await resp.json())
    await _healthy(client)


async def test_dashboard_files_are_served_with_a_strict_csp(client) -> None:
    page = await client.get("/ui/")
    assert page.status == 200 and "text/html" in page.headers["Content-Type"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert (await client.get("/ui/app.js")).status == 200
    missing = await client.get("/ui/anything")
    assert missing.status == 404 and "no route" in (await missing.json())["error"]["message"]
    await _healthy(client)


async def test_telemetry_is_swallowed(client) -> None:
    for path in ("/v1/api/event_logging", "/v1/api/event_logging/batch"):
        resp = await client.post(path, headers=AUTH, json={"events": []})
        assert resp.status == 200


async def test_unknown_route_is_a_protocol_404(client) -> None:
    resp = await client.get("/v2/nothing", headers=AUTH)
    assert resp.status == 404
    assert "no route" in (await resp.json())["error"]["message"]


async def test_models_list_comes_from_quota_snapshots(client) -> None:
    resp = await client.get("/v1/models", headers=AUTH)
    ids = [m["id"] for m in (await resp.json())["data"]]
    assert ids == ["claude-sonnet-4-6", "gemini-3-flash"]
    assert (await client.get("/v1/models/claude", headers=AUTH)).status == 200


def _chat(**extra):
    return {"model": "gemini-3-flash", "messages": [{"role": "user", "content": "hi"}], **extra}


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 400, "empty"),
        (b"[1, 2]", 400, ""),
        (_chat(messages="hello"), 400, "messages"),
        (_chat(messages=[]), 400, "messages"),
        (_chat(temperature="hot"), 400, "temperature"),
        (_chat(stream="yes"), 400, "stream"),
        (_chat(model=42), 400, "model"),
        (_chat(messages=[{"role": "wizard", "content": "x"}]), 400, "role"),
        (_chat(model="no-such-model"), 404, "no-such-model"),
        (_chat(messages=[{"role": "user", "content": "x" * 5000}]), 413, "max_body_bytes"),
    ],
)
async def test_bad_chat_input(client, body, status, needle) -> None:
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
    resp = await client.post("/v1/chat/completions", headers=AUTH, **kwargs)
    assert resp.status == status
    error = (await resp.json())["error"]
    assert needle in error["message"]
    assert error["type"]
    assert resp.headers["X-Request-Id"]
    await _healthy(client)


async def test_no_usable_account_is_a_clear_503(aiohttp_client, tmp_path) -> None:
    client = await aiohttp_client(build_app(settings_with(proxy={"auth_mode": "off"}), tmp_path))
    resp = await client.post("/v1/chat/completions", json=_chat())
    assert resp.status == 503
    assert "agm accounts add" in (await resp.json())["error"]["message"]


@pytest.mark.parametrize(
    ("path", "headers", "kind"),
    [
        ("/v1/responses/compact", {}, lambda b: b["error"]["type"] == "not_implemented_error"),
    ],
)
async def test_501_is_typed_as_not_implemented(client, path, headers, kind) -> None:
    resp = await client.post(path, headers={**AUTH, **headers}, json={})
    assert resp.status == 501 and kind(await resp.json())


async def test_501_in_anthropic_and_gemini_envelopes() -> None:
    from antigravity_gateway.errors import NotImplementedYet
    from antigravity_gateway.server.dialects import Dialect, error_response

    err = NotImplementedYet("later")
    anthropic = error_response(Dialect.ANTHROPIC, err)
    gemini = error_response(Dialect.GEMINI, err)
    assert b'"type":"api_error"' in anthropic.body and anthropic.status == 501
    assert b'"status":"UNIMPLEMENTED"' in gemini.body and gemini.status == 501


@pytest.mark.parametrize(
    ("path", "shape", "needle"),
    [
        ("/mcp", lambda b: b["error"]["type"] == "not_found_error", "/mcp/web_reader/mcp"),
        ("/mcp/nope/mcp", lambda b: b["jsonrpc"] == "2.0", "web_search_prime"),  # JSON-RPC
        ("/v1beta/nothing", lambda b: b["error"]["status"] == "NOT_FOUND", "Gemini routes"),
        ("/v1/messages/nothing", lambda b: b["type"] == "error", "Anthropic routes"),
        ("/v1/nothing", lambda b: b["error"]["type"] == "not_found_error", "OpenAI routes"),
        ("/nothing", lambda b: b["error"]["type"] == "not_found_error", "README"),
    ],
)
async def test_unknown_paths_are_404s_in_the_paths_protocol(client, path, shape, needle) -> None:
    resp = await client.get(path, headers=AUTH)
    body = await resp.json()
    assert resp.status == 404 and shape(body) and needle in str(body), body


async def test_ui_without_slash_goes_to_the_dashboard(client) -> None:
    resp = await client.get("/ui", headers=AUTH, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/ui/"


@pytest.mark.parametrize(
    ("method", "path", "right"),
    [
        ("GET", "/v1/chat/completions", "use POST"),
        ("POST", "/v1/responses/resp_123", "use GET"),
        ("DELETE", "/healthz", "use GET"),
    ],
)
async def test_405_names_the_right_method(client, method, path, right) -> None:
    resp = await client.request(method, path, headers=AUTH, json={})
    message = (await resp.json())["error"]["message"]
    assert resp.status == 405 and message.endswith(right), message
