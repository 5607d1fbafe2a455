"""An account whose token refresh fails for our side's reasons (invalid_client, the token
endpoint unreachable) is a 502/503 saying the gateway's Google login failed, in the client's
protocol: never a 401 that tells the user their own key is wrong."""

from __future__ import annotations

import pytest

from antigravity_gateway.app import build_app

from .helpers import KEY, seed_account, settings_with

AUTH = {"Authorization": f"Bearer {KEY}", "x-api-key": KEY, "x-goog-api-key": KEY}
ASK = {
    "/v1/chat/completions": {"model": "gemini-3-flash",
                             "messages": [{"role": "user", "content": "hi"}]},
    "/v1/messages": {"model": "gemini-3-flash", "max_tokens": 10,
                     "messages": [{"role": "user", "content": "hi"}]},
    "/v1beta/models/gemini-3-flash:generateContent": {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
}


async def _client(aiohttp_client, fake_google, tmp_path, token_url: str):
    fake_google.add_account("a@example.com", refresh_token="rt-a")
    seed_account(tmp_path, "a@example.com", refresh_token="rt-a", access_token="", expires_at=0)
    settings = settings_with(
        proxy={"auth_mode": "strict", "max_wait_seconds": 0},
        upstream={"cloudcode_base_urls": fake_google.cloudcode_base_urls,
                  "oauth_token_url": token_url,
                  "oauth_client_id": fake_google.options.client_id,
                  "oauth_client_secret": "not-the-secret"},
    )
    return await aiohttp_client(build_app(settings, tmp_path))


def _message(path: str, body: dict) -> str:  # the same envelope key in all three
    return body["error"]["message"]


@pytest.mark.parametrize("path", list(ASK))
async def test_invalid_client_is_a_502_about_the_login(
    aiohttp_client, fake_google, tmp_path, path
) -> None:
    client = await _client(aiohttp_client, fake_google, tmp_path, fake_google.token_url)
    resp = await client.post(path, headers=AUTH, json=ASK[path])
    assert resp.status == 502
    message = _message(path, await resp.json())
    assert "could not log in to Google" in message and "invalid_client" in message
    assert "api key" not in message.lower()


@pytest.mark.parametrize("path", list(ASK))
async def test_unreachable_token_endpoint_is_a_503(
    aiohttp_client, fake_google, tmp_path, path
) -> None:
    client = await _client(aiohttp_client, fake_google, tmp_path, "http://127.0.0.1:9/token")
    resp = await client.post(path, headers=AUTH, json=ASK[path])
    assert resp.status == 503
    assert "could not log in to Google" in _message(path, await resp.json())
