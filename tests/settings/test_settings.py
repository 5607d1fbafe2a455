"""Settings: defaults, first-run key, env overrides, atomic save, validation, dotted keys."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from antigravity_gateway import settings as S

KEY = re.compile(r"^sk-[0-9a-f]{32}$")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_defaults() -> None:
    s = S.Settings()
    assert s.proxy.port == 8045 and s.proxy.auth_mode == "auto" and s.proxy.api_key == ""
    assert s.proxy.request_timeout == 600 and s.proxy.max_body_bytes == 104857600
    assert s.upstream.cloudcode_base_urls == [
        "https://daily-cloudcode-pa.sandbox.googleapis.com",
        "https://daily-cloudcode-pa.googleapis.com",
        "https://cloudcode-pa.googleapis.com",
    ]
    assert s.upstream.oauth_client_id.startswith("1071006060591-")
    assert s.upstream.user_agent == "antigravity/1.15.8 linux/amd64"
    assert s.models.custom_mapping == {}


@pytest.mark.parametrize(
    ("lan", "mode_", "effective", "host"),
    [
        (False, "auto", "off", "127.0.0.1"),
        (True, "auto", "all_except_health", "0.0.0.0"),
        (False, "strict", "strict", "127.0.0.1"),
        (True, "off", "off", "0.0.0.0"),
    ],
)
def test_effective_auth_mode_and_bind_host(
    lan: bool, mode_: str, effective: str, host: str
) -> None:
    s = S.Settings(proxy=S.ProxySettings(allow_lan_access=lan, auth_mode=mode_))
    assert s.effective_auth_mode == effective == s.proxy.effective_auth_mode
    assert s.bind_host == host


def test_first_run_generates_and_saves_key(tmp_path: Path) -> None:
    s = S.load_settings(tmp_path, env={})
    assert KEY.match(s.proxy.api_key)
    path = tmp_path / "config.toml"
    assert path.exists() and mode(path) == 0o600
    assert s.proxy.api_key in path.read_text()
    assert S.load_settings(tmp_path, env={}).proxy.api_key == s.proxy.api_key


def test_file_without_key_gets_one_but_explicit_empty_key_stays(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[proxy]\nport = 9001\n")
    s = S.load_settings(tmp_path, env={})
    assert s.proxy.port == 9001 and KEY.match(s.proxy.api_key)
    (tmp_path / "config.toml").write_text('[proxy]\napi_key = ""\n')
    assert S.load_settings(tmp_path, env={}).proxy.api_key == ""


def test_env_overrides_win_and_are_not_written(tmp_path: Path) -> None:
    S.load_settings(tmp_path, env={})
    before = (tmp_path / "config.toml").read_text()
    env = {"AGM_PORT": "9100", "AGM_API_KEY": "sk-from-env-123", "AGM_AUTH_MODE": "strict",
           "AGM_ALLOW_LAN_ACCESS": "true"}
    s = S.load_settings(tmp_path, env=env)
    assert (s.proxy.port, s.proxy.api_key, s.proxy.auth_mode) == (9100, "sk-from-env-123", "strict")
    assert s.bind_host == "0.0.0.0"
    assert (tmp_path / "config.toml").read_text() == before


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AGM_PORT": "abc"}, "proxy.port: must be an integer (from AGM_PORT)"),
        ({"AGM_PORT": "70000"}, "proxy.port: must be between 1 and 65535"),
        ({"AGM_ALLOW_LAN_ACCESS": "maybe"}, "proxy.allow_lan_access: must be true or false"),
        ({"AGM_AUTH_MODE": "nope"}, "proxy.auth_mode: must be one of"),
        ({"AGM_API_KEY": "abc"}, "proxy.api_key: must start with"),
    ],
)
def test_bad_env_overrides(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(S.SettingsError) as info:
        S.load_settings(tmp_path, env=env)
    assert str(info.value).startswith(message)


def test_save_is_atomic_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = S.load_settings(tmp_path, env={})
    S.save_settings(S.set_value(s, "proxy.port", "8046"), tmp_path)
    assert S.load_settings(tmp_path, env={}).proxy.port == 8046
    assert mode(tmp_path / "config.toml") == 0o600
    before = (tmp_path / "config.toml").read_bytes()

    def broken_replace(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        S.save_settings(S.set_value(s, "proxy.port", "8047"), tmp_path)
    assert (tmp_path / "config.toml").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]


def test_save_refuses_invalid_settings(tmp_path: Path) -> None:
    bad = S.with_value(S.Settings(), "proxy.port", 0)
    with pytest.raises(S.SettingsError, match="proxy.port"):
        S.save_settings(bad, tmp_path)
    assert not (tmp_path / "config.toml").exists()


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("proxy.port", "70000", "proxy.port: must be between 1 and 65535"),
        ("proxy.port", "0", "proxy.port: must be between 1 and 65535"),
        ("proxy.port", '"x"', "proxy.port: expected int, got str"),
        ("proxy.auth_mode", "maybe",
         "proxy.auth_mode: must be one of off, strict, all_except_health, auto"),
        ("proxy.api_key", "abc",
         'proxy.api_key: must start with "sk-" and be at least 10 characters'),
        ("proxy.api_key", "pk-1234567890", 'proxy.api_key: must start with "sk-"'),
        ("proxy.allow_lan_access", "maybe", "proxy.allow_lan_access: expected bool, got str"),
        ("proxy.request_timeout", "0", "proxy.request_timeout: must be greater than 0"),
        ("proxy.max_body_bytes", "-1", "proxy.max_body_bytes: must be greater than 0"),
        ("upstream.cloudcode_base_urls", '["ftp://x"]', "upstream.cloudcode_base_urls: must be an"),
        ("upstream.cloudcode_base_urls", "[]", "upstream.cloudcode_base_urls: must list"),
        ("upstream.cloudcode_base_urls", "[1]", "upstream.cloudcode_base_urls: expected str"),
        ("upstream.oauth_token_url", "not a url", "upstream.oauth_token_url: must be an http(s)"),
        ("upstream.proxy_url", "nope", "upstream.proxy_url: must be an http(s) URL"),
        ("models.custom_mapping", "{a = 1}", "models.custom_mapping: expected str, got int"),
        ("proxy.foo", "1", "unknown setting: proxy.foo"),
        ("foo.bar", "1", "unknown setting: foo.bar"),
        ("proxy", "1", "proxy: is a section"),
    ],
)
def test_invalid_values(key: str, raw: str, message: str) -> None:
    with pytest.raises(S.SettingsError) as info:
        S.set_value(S.Settings(), key, raw)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_empty_api_key_is_allowed() -> None:
    assert S.set_value(S.Settings(), "proxy.api_key", '""').proxy.api_key == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[proxy]\nfoo = 1\n", "unknown setting: proxy.foo"),
        ("[nope]\nx = 1\n", "unknown setting: nope"),
        ("top = 1\n", "unknown setting: top"),
        ('[proxy]\napi_key = "sk-0123456789"\nport = "x"\n', "proxy.port: expected int, got str"),
        ('[proxy]\napi_key = "sk-0123456789"\nport = 70000\n',
         "proxy.port: must be between 1 and 65535"),
        ("[proxy\n", "invalid TOML"),
    ],
)
def test_bad_config_files(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(S.SettingsError, match=re.escape(message)):
        S.load_settings(tmp_path, env={})


@pytest.mark.parametrize(
    ("raw", "value"),
    [("8046", 8046), ("true", True), ('["a","b"]', ["a", "b"]), ('{a="b"}', {"a": "b"}),
     ('"quoted"', "quoted"), ("plain words", "plain words"), ("sk-abc", "sk-abc"), ("1.5", 1.5)],
)
def test_parse_value(raw: str, value: object) -> None:
    assert S.parse_value(raw) == value


def test_string_settings_keep_numeric_looking_text() -> None:
    s = S.set_value(S.Settings(), "proxy.admin_password", "12345")
    assert s.proxy.admin_password == "12345"


def test_set_and_get_values() -> None:
    s = S.set_value(S.Settings(), "proxy.port", "8046")
    s = S.set_value(s, "proxy.allow_lan_access", "true")
    s = S.set_value(s, "upstream.cloudcode_base_urls", '["http://a:1","http://b:2"]')
    s = S.set_value(s, "models.custom_mapping", '{"gpt-4*" = "gemini-3-flash"}')
    s = S.set_value(s, "models.custom_mapping.gpt-4.1", "claude-sonnet-4-6")
    assert S.get_value(s, "proxy.port") == 8046
    assert S.get_value(s, "proxy.allow_lan_access") is True
    assert S.get_value(s, "upstream.cloudcode_base_urls") == ["http://a:1", "http://b:2"]
    assert S.get_value(s, "models.custom_mapping") == {
        "gpt-4*": "gemini-3-flash", "gpt-4.1": "claude-sonnet-4-6"}
    assert S.get_value(s, "models.custom_mapping.gpt-4.1") == "claude-sonnet-4-6"
    assert S.get_value(s, "proxy")["port"] == 8046
    for missing in ("proxy.nope", "models.custom_mapping.unset", "x"):
        with pytest.raises(S.SettingsError, match=f"unknown setting: {re.escape(missing)}"):
            S.get_value(s, missing)


def test_masked() -> None:
    s = S.set_value(S.Settings(), "proxy.api_key", "sk-abcdef0123456789")
    s = S.set_value(s, "proxy.admin_password", "hunter2")
    m = S.masked(s)
    assert m.proxy.api_key == "sk-a…6789"
    assert m.proxy.admin_password == "…"
    assert m.upstream.oauth_client_secret == "GOCS…qDAf"
    assert S.masked(S.Settings()).proxy.api_key == ""


def test_resolve_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli_dir, env_dir = tmp_path / "cli", tmp_path / "env"
    assert S.resolve_data_dir(str(cli_dir), {"AGM_DATA_DIR": str(env_dir)}) == cli_dir
    assert mode(cli_dir) == 0o700 and not env_dir.exists()
    assert S.resolve_data_dir(None, {"AGM_DATA_DIR": str(env_dir)}) == env_dir
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    default = S.resolve_data_dir(None, {"AGM_DATA_DIR": "  "})
    assert default == tmp_path / "home" / ".antigravity_gateway" and mode(default) == 0o700
