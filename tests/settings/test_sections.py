"""The sections added for upstreams, z.ai, monitor, state and warmup: nested keys, validation."""

from __future__ import annotations

import pytest

from antigravity_gateway import settings as S

ZAI = {"name": "zai", "kind": "anthropic", "base_url": "https://api.z.ai/api/anthropic",
       "api_keys": ["k1", "k2"], "models": ["glm-*"]}


def test_new_sections_have_interface_defaults() -> None:
    s = S.Settings()
    assert (s.monitor.enabled, s.monitor.log_bodies) == (True, True)
    assert (s.monitor.max_body_chars, s.monitor.retention_days) == (65536, 30)
    assert s.upstreams == [] and s.zai.dispatch_mode == "off" and s.zai.base_url == "https://api.z.ai"
    assert (s.zai.mcp.enabled, s.zai.mcp.web_search, s.zai.mcp.vision) == (False, True, True)
    assert s.upstream.oauth_auth_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert s.state.backend == "memory" and s.warmup.enabled is False
    assert s.proxy.cors_origins == [] and s.proxy.allow_private_fetch is False


def test_nested_and_map_keys() -> None:
    s = S.set_value(S.Settings(), "zai.mcp.enabled", "true")
    assert s.zai.mcp.enabled is True and S.get_value(s, "zai.mcp.enabled") is True
    s = S.set_value(s, "zai.model_mapping.claude-3.5-*", "glm-4.6")
    assert s.zai.model_mapping == {"claude-3.5-*": "glm-4.6"}
    s = S.set_value(s, "models.custom_mapping.gpt-4.1", "gemini-3-flash")
    assert S.get_value(s, "models.custom_mapping.gpt-4.1") == "gemini-3-flash"
    with pytest.raises(S.SettingsError, match="is a section"):
        S.set_value(s, "zai.mcp", "1")


def test_unset_restores_defaults_and_removes_map_entries() -> None:
    s = S.set_value(S.Settings(), "proxy.max_attempts", "5")
    s = S.set_value(s, "models.custom_mapping.x", "gemini-3-flash")
    s = S.unset_value(S.unset_value(s, "proxy.max_attempts"), "models.custom_mapping.x")
    assert s.proxy.max_attempts == 3 and s.models.custom_mapping == {}
    with pytest.raises(S.SettingsError, match="unknown setting: models.custom_mapping.nope"):
        S.unset_value(s, "models.custom_mapping.nope")
    with pytest.raises(S.SettingsError, match="unknown setting: proxy.nope"):
        S.unset_value(s, "proxy.nope")


def test_upstreams_are_set_whole_and_keys_masked() -> None:
    s = S.with_value(S.Settings(), "upstreams", [ZAI])
    S.validate(s)
    assert s.upstreams[0].name == "zai" and s.upstreams[0].api_keys == ["k1", "k2"]
    masked = S.masked(S.with_value(s, "zai.api_key", "secret-zai-key-123"))
    assert "secret-zai-key-123" not in repr(masked) and masked.upstreams[0].api_keys != ["k1", "k2"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "bedrock"}, "upstreams.zai.kind: must be one of anthropic, openai, gemini"),
        ({"api_keys": []}, "upstreams.zai.api_keys: must list at least one non-empty key"),
        ({"base_url": "ftp://x"}, "upstreams.zai.base_url: must be an http(s) URL"),
        ({"name": "a/b"}, "upstreams.a/b.name: must be a non-empty name without '/'"),
    ],
)
def test_invalid_upstreams_name_the_key(change: dict[str, object], message: str) -> None:
    s = S.with_value(S.Settings(), "upstreams", [{**ZAI, **change}])
    with pytest.raises(S.SettingsError) as info:
        S.validate(s)
    assert str(info.value).startswith(message)


def test_duplicate_upstream_names_are_refused() -> None:
    s = S.with_value(S.Settings(), "upstreams", [ZAI, ZAI])
    with pytest.raises(S.SettingsError, match="upstreams.zai.name: duplicate upstream name"):
        S.validate(s)


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("zai.dispatch_mode", "sometimes", "zai.dispatch_mode: must be one of off, exclusive"),
        ("state.backend", "etcd", "state.backend: must be one of memory, redis"),
        ("monitor.retention_days", "0", "monitor.retention_days: must be at least 1"),
        ("warmup.interval_minutes", "0", "warmup.interval_minutes: must be greater than 0"),
        ("upstream.oauth_auth_url", "nope", "upstream.oauth_auth_url: must be an http(s) URL"),
    ],
)
def test_invalid_section_values(key: str, raw: str, message: str) -> None:
    with pytest.raises(S.SettingsError) as info:
        S.set_value(S.Settings(), key, raw)
    assert str(info.value).startswith(message)


def test_unknown_nested_key_in_file_is_named() -> None:
    with pytest.raises(S.SettingsError, match="zai.mcp.nope"):
        S.from_builtins({"zai": {"mcp": {"nope": True}}})
