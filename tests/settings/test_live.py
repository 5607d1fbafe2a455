"""The watcher's pieces: what changed, the reload that never writes, the data-dir fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from antigravity_gateway import settings as S
from antigravity_gateway.settings import watch


def test_changed_keys_names_settings_and_whole_maps() -> None:
    old = S.Settings()
    new = S.set_value(S.set_value(old, "proxy.auth_mode", "strict"),
                      "models.custom_mapping.a", "b")
    assert watch.changed_keys(old, new) == ["proxy.auth_mode", "models.custom_mapping"]
    assert watch.changed_keys(new, new) == []


def test_reload_never_writes_and_keeps_a_removed_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[proxy]\nport = 9001\n")
    current = S.Settings(proxy=S.ProxySettings(api_key="sk-running-key-1"))
    loaded = watch.reload(tmp_path, current, env={})
    assert loaded.proxy.port == 9001 and loaded.proxy.api_key == "sk-running-key-1"
    assert path.read_text() == "[proxy]\nport = 9001\n"
    first = watch.fingerprint(path)
    path.write_text("[proxy]\nport = 9002\n")
    assert watch.fingerprint(path) != first and watch.fingerprint(tmp_path / "none") is None


def test_reload_refuses_an_invalid_file(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[proxy]\nauth_mode = "sometimes"\n')
    with pytest.raises(S.SettingsError, match="proxy.auth_mode"):
        watch.reload(tmp_path, S.Settings(), env={})


def test_data_dir_falls_back_to_an_existing_legacy_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert S.resolve_data_dir(None, env={}) == tmp_path / ".antigravity_gateway"
    (tmp_path / ".antigravity_gateway").rmdir()
    (tmp_path / ".antigravity_manager").mkdir()
    assert S.resolve_data_dir(None, env={}) == tmp_path / ".antigravity_manager"
    (tmp_path / ".antigravity_gateway").mkdir()  # once the new one exists, it wins
    assert S.resolve_data_dir(None, env={}) == tmp_path / ".antigravity_gateway"
