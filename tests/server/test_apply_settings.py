"""`Gateway.apply_settings`: what captured settings at build time follows a live change."""

from __future__ import annotations

import pytest

from antigravity_gateway import settings as S
from antigravity_gateway.app import build_app
from antigravity_gateway.server.context import GATEWAY

from .helpers import KEY, settings_with


@pytest.fixture
async def client(aiohttp_client, tmp_path):
    settings = settings_with(proxy={"auth_mode": "strict", "max_body_bytes": 4096},
                             upstream={"cloudcode_base_urls": ["http://127.0.0.1:9/a"]})
    return await aiohttp_client(build_app(settings, tmp_path))


async def test_every_consumer_takes_the_new_settings(client) -> None:
    gateway = client.app[GATEWAY]
    assert gateway.route("alias").upstream == "alias"  # routed (and kept) before the change
    new = settings_with(
        proxy={"auth_mode": "strict", "max_body_bytes": 100_000, "request_timeout": 7},
        upstream={"cloudcode_base_urls": ["http://127.0.0.1:9/b"],
                  "oauth_token_url": "http://127.0.0.1:9/token"},
        scheduling={"mode": "round_robin", "sticky_ttl_seconds": 5},
        quota={"protection_threshold": 20},
        models={"custom_mapping": {"alias": "gemini-3-flash"}},
    )
    gateway.apply_settings(new)
    assert gateway.settings is new
    assert (gateway.pool.policy.mode, gateway.pool.policy.sticky_ttl) == ("round_robin", 5)
    assert gateway.pool.policy.protection_threshold == 20
    assert gateway.cloudcode._base_urls == ("http://127.0.0.1:9/b",)
    assert gateway.cloudcode._timeout.total == 7
    assert gateway.accounts._upstream.oauth_token_url == "http://127.0.0.1:9/token"
    assert gateway.route("alias").upstream == "gemini-3-flash"
    big = b'{"model": "x", "messages": [{"role": "user", "content": "' + b"a" * 8000 + b'"}]}'
    resp = await client.post("/v1/chat/completions", data=big,
                             headers={"Authorization": f"Bearer {KEY}",
                                      "Content-Type": "application/json"})
    assert resp.status != 413  # the body limit followed (4096 -> 100000)


async def test_invalid_settings_change_nothing(client) -> None:
    gateway = client.app[GATEWAY]
    before = gateway.settings
    bad = S.with_value(before, "proxy.auth_mode", "sometimes")
    with pytest.raises(S.SettingsError, match="proxy.auth_mode"):
        gateway.apply_settings(bad)
    assert gateway.settings is before
