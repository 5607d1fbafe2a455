"""The auth matrix of the README: each mode x each way to send the key x right/wrong/missing."""

from __future__ import annotations

import pytest

from antigravity_gateway.app import build_app

from .helpers import KEY, settings_with

WAYS = {
    "bearer": lambda k: ({"Authorization": f"Bearer {k}"}, {}),
    "raw": lambda k: ({"Authorization": k}, {}),
    "x-api-key": lambda k: ({"x-api-key": k}, {}),
    "x-goog-api-key": lambda k: ({"x-goog-api-key": k}, {}),
    "query": lambda k: ({}, {"key": k}),
}


async def _client(aiohttp_client, tmp_path, **proxy):
    return await aiohttp_client(build_app(settings_with(proxy=proxy), tmp_path))


def _effective(mode: str, lan: bool) -> str:
    return ("all_except_health" if lan else "off") if mode == "auto" else mode


@pytest.mark.parametrize("mode", ["off", "strict", "all_except_health", "auto"])
@pytest.mark.parametrize("lan", [False, True])
@pytest.mark.parametrize("way", sorted(WAYS))
@pytest.mark.parametrize("key", ["right", "wrong", "missing"])
async def test_matrix(aiohttp_client, tmp_path, mode, lan, way, key) -> None:
    client = await _client(aiohttp_client, tmp_path, auth_mode=mode, allow_lan_access=lan)
    sent = {"right": KEY, "wrong": "sk-wrong-key-000000"}.get(key)
    headers, query = WAYS[way](sent) if sent else ({}, {})
    resp = await client.get("/v1/models", headers=headers, params=query)
    effective = _effective(mode, lan)
    expected = 200 if effective == "off" or key == "right" else 401
    assert resp.status == expected
    if expected == 401:
        body = await resp.json()
        assert body["error"]["message"]
    health = await client.get("/healthz", headers=headers, params=query)
    assert health.status == (401 if effective == "strict" and key != "right" else 200)


async def test_empty_api_key_refuses_everything(aiohttp_client, tmp_path) -> None:
    client = await _client(aiohttp_client, tmp_path, auth_mode="strict", api_key="")
    for headers in (
        {},
        {"Authorization": "Bearer "},
        {"x-api-key": ""},
        {"Authorization": "Bearer x"},
    ):
        assert (await client.get("/v1/models", headers=headers)).status == 401


async def test_options_preflight_passes_without_key(aiohttp_client, tmp_path) -> None:
    client = await _client(aiohttp_client, tmp_path, auth_mode="strict")
    resp = await client.options(
        "/v1/chat/completions",
        headers={
            "Origin": "http://example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in resp.headers["Access-Control-Allow-Headers"]


async def test_head_root_needs_no_key(aiohttp_client, tmp_path) -> None:
    client = await _client(aiohttp_client, tmp_path, auth_mode="strict")
    assert (await client.head("/")).status == 200


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("/v1/chat/completions", lambda b: b["error"]["type"] == "authentication_error"),
        (
            "/v1/messages",
            lambda b: b["type"] == "error" and b["error"]["type"] == "authentication_error",
        ),
        (
            "/v1beta/models/gemini-3-flash:generateContent",
            lambda b: b["error"]["status"] == "UNAUTHENTICATED" and b["error"]["code"] == 401,
        ),
    ],
)
async def test_401_speaks_the_client_protocol(aiohttp_client, tmp_path, path, shape) -> None:
    client = await _client(aiohttp_client, tmp_path, auth_mode="strict")
    resp = await client.post(path, json={})
    assert resp.status == 401
    assert shape(await resp.json())


async def test_admin_routes_need_a_key_even_when_auth_is_off(aiohttp_client, tmp_path) -> None:
    client = await _client(aiohttp_client, tmp_path, auth_mode="off")
    assert (await client.get("/api/accounts")).status == 401
    assert (await client.get("/api/accounts", headers={"x-api-key": KEY})).status == 200


async def test_admin_password_replaces_api_key_for_admin(aiohttp_client, tmp_path) -> None:
    client = await _client(aiohttp_client, tmp_path, auth_mode="strict", admin_password="pw-123")
    assert (await client.get("/api/x", headers={"x-api-key": KEY})).status == 401
    assert (await client.get("/api/x", headers={"x-api-key": "pw-123"})).status == 404
