"""The one settings object: load/save of `config.toml`, env overrides, dotted-key access.

The Structs and `validate` live in `settings.schema` and are re-exported here. `AGM_*`
environment overrides are never written back. Saving edits the file with tomlkit: only changed
keys are rewritten, the user's comments and order stay.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from .schema import (
    AUTH_MODES,
    DEFAULT_BASE_URLS,
    DISPATCH_MODES,
    SCHEDULING_MODES,
    STATE_BACKENDS,
    UPSTREAM_KINDS,
    ModelsSettings,
    MonitorSettings,
    ProxySettings,
    QuotaSettings,
    SchedulingSettings,
    Settings,
    SettingsError,
    StateSettings,
    UpstreamEntry,
    UpstreamSettings,
    WarmupSettings,
    ZaiMcpSettings,
    ZaiSettings,
    validate,
)

__all__ = [
    "AUTH_MODES", "DEFAULT_BASE_URLS", "DISPATCH_MODES", "SCHEDULING_MODES", "STATE_BACKENDS",
    "UPSTREAM_KINDS", "ModelsSettings", "MonitorSettings", "ProxySettings", "QuotaSettings",
    "SchedulingSettings", "Settings", "SettingsError", "StateSettings", "UpstreamEntry",
    "UpstreamSettings", "WarmupSettings", "ZaiMcpSettings", "ZaiSettings", "validate",
]

CONFIG_FILE = "config.toml"
DEFAULT_DATA_DIR = "~/.antigravity_gateway"
LEGACY_DATA_DIR = "~/.antigravity_manager"  # used by versions before the 2026-12 rename
SECRET_KEYS = (
    "proxy.api_key", "proxy.admin_password", "upstream.oauth_client_secret", "zai.api_key")
MAP_PREFIXES = ("models.custom_mapping.", "zai.model_mapping.")
RESTART_KEYS = ("proxy.port", "proxy.allow_lan_access")  # the listening socket
ENV_OVERRIDES = {
    "AGM_PORT": "proxy.port",
    "AGM_API_KEY": "proxy.api_key",
    "AGM_AUTH_MODE": "proxy.auth_mode",
    "AGM_ALLOW_LAN_ACCESS": "proxy.allow_lan_access",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


# --- files -----------------------------------------------------------------------------------

def resolve_data_dir(cli_value: str | None, env: Mapping[str, str] = os.environ) -> Path:
    """`--data-dir`, else `$AGM_DATA_DIR`, else ~/.antigravity_gateway (or an existing
    ~/.antigravity_manager when the new one does not exist); created with mode 0700."""
    raw = cli_value or env.get("AGM_DATA_DIR", "").strip() or _default_data_dir()
    path = Path(raw).expanduser()
    if not path.is_dir():
        path.mkdir(parents=True, mode=0o700, exist_ok=True)
        path.chmod(0o700)
    return path


def _default_data_dir() -> str:
    new, legacy = Path(DEFAULT_DATA_DIR).expanduser(), Path(LEGACY_DATA_DIR).expanduser()
    return str(legacy) if legacy.is_dir() and not new.exists() else str(new)


def config_path(data_dir: Path) -> Path:
    return data_dir / CONFIG_FILE


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write via a temp file in the same directory, fsync, then rename over `path` (the
    account store writes its files this way too)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_settings(
    data_dir: Path, env: Mapping[str, str] = os.environ, *, first_run: bool = True
) -> Settings:
    """The effective settings: file (or defaults), first-run key, validation, env overrides."""
    settings = read_config(data_dir, first_run=first_run)
    validate(settings)
    return apply_env(settings, env)


def read_config(data_dir: Path, *, first_run: bool = True) -> Settings:
    """What `config.toml` says (type-checked, not range-validated), without env overrides.

    On first run (no file, or a file without `proxy.api_key`) a key is generated and saved,
    unless `first_run` is False (the live reload never writes).
    """
    path = config_path(data_dir)
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError("", f"{path}: invalid TOML: {exc}") from exc
    settings = from_builtins(raw)
    if first_run and "api_key" not in raw.get("proxy", {}):
        settings = with_value(settings, "proxy.api_key", generate_api_key())
        _write(settings, data_dir)
    return settings


def save_settings(settings: Settings, data_dir: Path) -> None:
    """Validate, then write `config.toml` atomically with mode 0600 (it holds the API key)."""
    validate(settings)
    _write(settings, data_dir)


def _write(settings: Settings, data_dir: Path) -> None:
    """Edit the file in place: changed keys set, keys back at their default removed."""
    import tomlkit  # here, not at the top: `agm --help` does without it (~9 ms)

    path = config_path(data_dir)
    doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    before = to_builtins(from_builtins(doc.unwrap()))
    _merge(doc, before, to_builtins(settings), to_builtins(Settings()))
    write_atomic(path, tomlkit.dumps(doc).encode())


def _merge(
    table: Any, old: Mapping[str, Any], new: Mapping[str, Any], default: Mapping[str, Any]
) -> None:
    for gone in [name for name in old if name not in new]:  # a map entry unset
        table.pop(gone, None)
    for name, value in new.items():
        if value == old.get(name):
            continue
        if isinstance(value, dict):
            if name not in table:
                table[name] = {}  # tomlkit makes a plain dict a table
            _merge(table[name], old.get(name) or {}, value, default.get(name) or {})
        elif name in default and value == default[name]:
            table.pop(name, None)
        else:
            table[name] = value


def generate_api_key() -> str:
    import secrets  # only for a new key; `agm --help` does without it

    return "sk-" + secrets.token_hex(16)


def apply_env(settings: Settings, env: Mapping[str, str]) -> Settings:
    """Apply AGM_PORT, AGM_API_KEY, AGM_AUTH_MODE, AGM_ALLOW_LAN_ACCESS (set and non-empty)."""
    for var, key in ENV_OVERRIDES.items():
        value = env.get(var, "")
        if value:
            settings = with_value(settings, key, _parse_env(var, value))
    validate(settings)
    return settings


def _parse_env(var: str, value: str) -> Any:
    value = value.strip()
    if var == "AGM_PORT":
        try:
            return int(value)
        except ValueError:
            raise SettingsError("proxy.port", f"must be an integer (from {var})") from None
    if var == "AGM_ALLOW_LAN_ACCESS":
        if value.lower() not in _TRUE | _FALSE:
            raise SettingsError("proxy.allow_lan_access", f"must be true or false (from {var})")
        return value.lower() in _TRUE
    return value


# --- conversion and validation ---------------------------------------------------------------

def to_builtins(settings: Settings) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(settings)
    return result


def from_builtins(raw: Mapping[str, Any]) -> Settings:
    """Build Settings from plain data; unknown keys and wrong types raise SettingsError
    naming the dotted key."""
    _check_known(raw, Settings, "")
    try:
        return msgspec.convert(raw, Settings)
    except msgspec.ValidationError as exc:
        raise _settings_error(exc) from None


def _check_known(raw: Mapping[str, Any], struct: type, prefix: str) -> None:
    fields = {f.name: f.type for f in msgspec.structs.fields(struct)}
    for name, value in raw.items():
        key = f"{prefix}{name}"
        if name not in fields:
            raise SettingsError("", f"unknown setting: {key}")
        kind = fields[name]
        if isinstance(kind, type) and issubclass(kind, msgspec.Struct) and isinstance(value, dict):
            _check_known(value, kind, key + ".")


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$")


def _settings_error(exc: msgspec.ValidationError) -> SettingsError:
    match = _AT.match(str(exc))
    assert match is not None
    path = (match["path"] or "").lstrip(".")
    path = re.sub(r"\[[^\]]*\]", "", path)  # list indexes and dict keys: name the setting
    message = match["msg"].replace("`", "")
    return SettingsError(path, message[:1].lower() + message[1:])


# --- dotted keys -----------------------------------------------------------------------------
# A key walks the sections (`proxy.port`, `zai.mcp.enabled`); below a map setting the rest of the
# key is one map key, dots and all (`models.custom_mapping.gpt-4.1`). `upstreams` is set whole.

def _split(key: str) -> tuple[list[str], str | None]:
    """(`path`, map key or None) for a dotted key."""
    for prefix in MAP_PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return prefix[:-1].split("."), key[len(prefix):]
    return key.split("."), None


def get_value(settings: Settings, key: str) -> Any:
    """The value at a dotted key (`proxy.port`, `models.custom_mapping.gpt-4`) as plain data."""
    path, map_key = _split(key)
    node: Any = to_builtins(settings)
    for part in [*path, map_key] if map_key is not None else path:
        if not isinstance(node, dict) or part not in node:
            raise SettingsError("", f"unknown setting: {key}")
        node = node[part]
    return node


def set_value(settings: Settings, key: str, raw: str) -> Settings:
    """A copy with `key` set from a command-line string (TOML value when it parses), validated."""
    value = parse_value(raw, want_str=_is_str_key(key), want_list=_is_list_key(key))
    updated = with_value(settings, key, value)
    validate(updated)
    return updated


def unset_value(settings: Settings, key: str) -> Settings:
    """A copy with `key` back at its default (a map entry: removed), validated."""
    path, map_key = _split(key)
    data = to_builtins(settings)
    if map_key is not None:
        mapping = _walk(data, path, key)
        if map_key not in mapping:
            raise SettingsError("", f"unknown setting: {key}")
        del mapping[map_key]
    else:
        default = get_value(Settings(), key)
        _walk(data, path[:-1], key)[path[-1]] = default
    updated = from_builtins(data)
    validate(updated)
    return updated


def parse_value(raw: str, *, want_str: bool = False, want_list: bool = False) -> Any:
    """`8046` -> 8046, `true` -> True, `["a","b"]` -> list; anything else stays a string.

    For a list setting, text that is not a TOML list is comma-separated: `a, b` -> ["a", "b"].
    """
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    if want_list and not isinstance(value, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw if want_str and not isinstance(value, str) else value


def _is_str_key(key: str) -> bool:
    path, map_key = _split(key)
    return map_key is not None or _field_type(path) is str


def _is_list_key(key: str) -> bool:
    path, map_key = _split(key)
    return map_key is None and typing.get_origin(_field_type(path)) is list


def _is_section(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, msgspec.Struct)


def _field_type(path: list[str]) -> Any:
    """The declared type at `path`, or None when no such field exists."""
    owner: Any = Settings
    for part in path:
        if not _is_section(owner):
            return None
        owner = {f.name: f.type for f in msgspec.structs.fields(owner)}.get(part)
    return owner


def _walk(data: dict[str, Any], path: list[str], key: str) -> dict[str, Any]:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            raise SettingsError("", f"unknown setting: {key}")
        node = node[part]
    if not isinstance(node, dict):
        raise SettingsError("", f"unknown setting: {key}")
    return node


def with_value(settings: Settings, key: str, value: Any) -> Settings:
    """A copy with plain `value` stored at `key`; type-checked but not range-validated."""
    data = to_builtins(settings)
    path, map_key = _split(key)
    if map_key is not None:
        if not isinstance(value, str):
            raise SettingsError(key, "must be a string")
        _walk(data, path, key)[map_key] = value
        return from_builtins(data)
    parent = _walk(data, path[:-1], key)
    if path[-1] not in parent:
        raise SettingsError("", f"unknown setting: {key}")
    if _is_section(_field_type(path)):
        raise SettingsError(key, "is a section; set one of its keys, e.g. proxy.port")
    parent[path[-1]] = value
    return from_builtins(data)


def masked(settings: Settings) -> Settings:
    """A copy for display with secrets shortened to `sk-a…1234`."""
    result = settings
    for key in SECRET_KEYS:
        result = with_value(result, key, mask_secret(get_value(result, key)))
    upstreams = [
        msgspec.structs.replace(u, api_keys=[mask_secret(k) for k in u.api_keys])
        for u in result.upstreams
    ]
    return msgspec.structs.replace(result, upstreams=upstreams)


def mask_secret(secret: str) -> str:
    if not secret:
        return ""
    if len(secret) < 12:
        return "…"
    return f"{secret[:4]}…{secret[-4:]}"
