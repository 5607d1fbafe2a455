"""The one settings object: Structs mirroring `config.toml`, load/save, env overrides, validation.

`load_settings` reads the file (defaults when missing, generating and saving the API key on first
run), then applies `AGM_*` environment overrides, which are never written back. Unknown keys are
an error naming the dotted key. It does not watch the file or reload; callers load again.
`write_atomic` (temp file + fsync + rename) is shared with the account store.

Resilience keys (defaults): proxy.max_attempts = 3 (upstream attempts per request, each on the
best remaining account), proxy.max_wait_seconds = 10 (wait this long at most for a cooling
account before answering 429); scheduling.mode = "balance" | "cache_first" | "round_robin",
scheduling.sticky_ttl_seconds = 600 (a conversation stays on its account while it is used at
least this often; cache_first ignores it); quota.refresh_minutes = 10 (background quota
refresh, 0 = off); quota.protection_threshold = 0 (percent: skip an account for a model whose
known remaining quota is below it).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import tomli_w

AUTH_MODES = ("off", "strict", "all_except_health", "auto")
SCHEDULING_MODES = ("balance", "cache_first", "round_robin")
CONFIG_FILE = "config.toml"
DEFAULT_DATA_DIR = "~/.antigravity_gateway"
LEGACY_DATA_DIR = "~/.antigravity_manager"  # used by versions before the 2026-12 rename
DEFAULT_BASE_URLS = [
    "https://daily-cloudcode-pa.sandbox.googleapis.com",
    "https://daily-cloudcode-pa.googleapis.com",
    "https://cloudcode-pa.googleapis.com",
]
SECRET_KEYS = ("proxy.api_key", "proxy.admin_password", "upstream.oauth_client_secret")
ENV_OVERRIDES = {
    "AGM_PORT": "proxy.port",
    "AGM_API_KEY": "proxy.api_key",
    "AGM_AUTH_MODE": "proxy.auth_mode",
    "AGM_ALLOW_LAN_ACCESS": "proxy.allow_lan_access",
}
_MAPPING_PREFIX = "models.custom_mapping."
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """An invalid or unknown setting; `str()` is one line naming the dotted key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.message = message


class ProxySettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    port: int = 8045
    allow_lan_access: bool = False
    auth_mode: str = "auto"
    api_key: str = ""
    admin_password: str = ""
    request_timeout: int = 600
    max_body_bytes: int = 104857600
    max_attempts: int = 3
    max_wait_seconds: float = 10.0

    @property
    def effective_auth_mode(self) -> str:
        """`auto` resolves to all_except_health when reachable from the LAN, else off."""
        if self.auth_mode == "auto":
            return "all_except_health" if self.allow_lan_access else "off"
        return self.auth_mode

    @property
    def bind_host(self) -> str:
        return "0.0.0.0" if self.allow_lan_access else "127.0.0.1"


class UpstreamSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    cloudcode_base_urls: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_BASE_URLS))
    oauth_token_url: str = "https://oauth2.googleapis.com/token"
    userinfo_url: str = "https://www.googleapis.com/oauth2/v2/userinfo"
    # The public installed-app client of Antigravity (reference/antigravity-tools.md §4.4).
    oauth_client_id: str = (
        "1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com")
    oauth_client_secret: str = "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"
    proxy_url: str = ""
    user_agent: str = "antigravity/1.15.8 linux/amd64"


class ModelsSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    custom_mapping: dict[str, str] = msgspec.field(default_factory=dict)


class SchedulingSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    mode: str = "balance"
    sticky_ttl_seconds: float = 600.0


class QuotaSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    refresh_minutes: float = 10.0
    protection_threshold: float = 0.0


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    proxy: ProxySettings = msgspec.field(default_factory=ProxySettings)
    upstream: UpstreamSettings = msgspec.field(default_factory=UpstreamSettings)
    models: ModelsSettings = msgspec.field(default_factory=ModelsSettings)
    scheduling: SchedulingSettings = msgspec.field(default_factory=SchedulingSettings)
    quota: QuotaSettings = msgspec.field(default_factory=QuotaSettings)

    @property
    def effective_auth_mode(self) -> str:
        return self.proxy.effective_auth_mode

    @property
    def bind_host(self) -> str:
        return self.proxy.bind_host


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
    """Write via a temp file in the same directory, fsync, then rename over `path`."""
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


def load_settings(data_dir: Path, env: Mapping[str, str] = os.environ) -> Settings:
    """The effective settings: file (or defaults), first-run key, validation, env overrides."""
    settings = read_config(data_dir)
    validate(settings)
    return apply_env(settings, env)


def read_config(data_dir: Path) -> Settings:
    """What `config.toml` says (type-checked, not range-validated), without env overrides.

    On first run (no file, or a file without `proxy.api_key`) a key is generated and saved.
    """
    path = config_path(data_dir)
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError("", f"{path}: invalid TOML: {exc}") from exc
    settings = from_builtins(raw)
    if "api_key" not in raw.get("proxy", {}):
        settings = with_value(settings, "proxy.api_key", generate_api_key())
        _write(settings, data_dir)
    return settings


def save_settings(settings: Settings, data_dir: Path) -> None:
    """Validate, then write `config.toml` atomically with mode 0600 (it holds the API key)."""
    validate(settings)
    _write(settings, data_dir)


def _write(settings: Settings, data_dir: Path) -> None:
    write_atomic(config_path(data_dir), tomli_w.dumps(to_builtins(settings)).encode())


def generate_api_key() -> str:
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
    """Build Settings from plain data; unknown keys and wrong types raise SettingsError."""
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


def validate(settings: Settings) -> None:
    """Raise SettingsError for the first invalid value."""
    p, u = settings.proxy, settings.upstream
    if not 1 <= p.port <= 65535:
        raise SettingsError("proxy.port", "must be between 1 and 65535")
    if p.auth_mode not in AUTH_MODES:
        raise SettingsError("proxy.auth_mode", f"must be one of {', '.join(AUTH_MODES)}")
    if p.api_key and (not p.api_key.startswith("sk-") or len(p.api_key) < 10):
        raise SettingsError("proxy.api_key", 'must start with "sk-" and be at least 10 characters')
    if p.request_timeout <= 0:
        raise SettingsError("proxy.request_timeout", "must be greater than 0")
    if p.max_body_bytes <= 0:
        raise SettingsError("proxy.max_body_bytes", "must be greater than 0")
    _validate_resilience(settings)
    if not u.cloudcode_base_urls:
        raise SettingsError("upstream.cloudcode_base_urls", "must list at least one URL")
    for url in u.cloudcode_base_urls:
        _check_url("upstream.cloudcode_base_urls", url)
    _check_url("upstream.oauth_token_url", u.oauth_token_url)
    _check_url("upstream.userinfo_url", u.userinfo_url)
    if u.proxy_url:
        _check_url("upstream.proxy_url", u.proxy_url)
    if not u.oauth_client_id:
        raise SettingsError("upstream.oauth_client_id", "must not be empty")
    for name in settings.models.custom_mapping:
        if not name:
            raise SettingsError("models.custom_mapping", "model names must not be empty")


def _validate_resilience(settings: Settings) -> None:
    p, s, q = settings.proxy, settings.scheduling, settings.quota
    if p.max_attempts < 1:
        raise SettingsError("proxy.max_attempts", "must be at least 1")
    if p.max_wait_seconds < 0:
        raise SettingsError("proxy.max_wait_seconds", "must not be negative")
    if s.mode not in SCHEDULING_MODES:
        raise SettingsError("scheduling.mode", f"must be one of {', '.join(SCHEDULING_MODES)}")
    if s.sticky_ttl_seconds < 0:
        raise SettingsError("scheduling.sticky_ttl_seconds", "must not be negative")
    if q.refresh_minutes < 0:
        raise SettingsError("quota.refresh_minutes", "must not be negative (0 turns it off)")
    if not 0 <= q.protection_threshold <= 100:
        raise SettingsError("quota.protection_threshold", "must be between 0 and 100 (percent)")


def _check_url(key: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(key, f"must be an http(s) URL, got {url!r}")


# --- dotted keys -----------------------------------------------------------------------------

def get_value(settings: Settings, key: str) -> Any:
    """The value at a dotted key (`proxy.port`, `models.custom_mapping.gpt-4`) as plain data."""
    if key.startswith(_MAPPING_PREFIX):
        name = key[len(_MAPPING_PREFIX):]
        if name not in settings.models.custom_mapping:
            raise SettingsError("", f"unknown setting: {key}")
        return settings.models.custom_mapping[name]
    node: Any = to_builtins(settings)
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise SettingsError("", f"unknown setting: {key}")
        node = node[part]
    return node


def set_value(settings: Settings, key: str, raw: str) -> Settings:
    """A copy with `key` set from a command-line string (TOML value when it parses), validated."""
    updated = with_value(settings, key, parse_value(raw, want_str=_is_str_key(key)))
    validate(updated)
    return updated


def parse_value(raw: str, *, want_str: bool = False) -> Any:
    """`8046` -> 8046, `true` -> True, `["a","b"]` -> list; anything else stays a string."""
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw
    return raw if want_str and not isinstance(value, str) else value


def _is_str_key(key: str) -> bool:
    if key.startswith(_MAPPING_PREFIX):
        return True
    section, _, name = key.partition(".")
    owner = {f.name: f.type for f in msgspec.structs.fields(Settings)}.get(section)
    if not (isinstance(owner, type) and issubclass(owner, msgspec.Struct)):
        return False
    return {f.name: f.type for f in msgspec.structs.fields(owner)}.get(name) is str


def with_value(settings: Settings, key: str, value: Any) -> Settings:
    """A copy with plain `value` stored at `key`; type-checked but not range-validated."""
    data = to_builtins(settings)
    section, _, name = key.partition(".")
    if key.startswith(_MAPPING_PREFIX) and len(key) > len(_MAPPING_PREFIX):
        if not isinstance(value, str):
            raise SettingsError(key, "must be a string")
        data["models"]["custom_mapping"][key[len(_MAPPING_PREFIX):]] = value
    elif isinstance(data.get(section), dict) and name in data[section]:
        data[section][name] = value
    elif section in data and not name:
        raise SettingsError(key, "is a section; set one of its keys, e.g. proxy.port")
    else:
        raise SettingsError("", f"unknown setting: {key}")
    return from_builtins(data)


def masked(settings: Settings) -> Settings:
    """A copy for display with secrets shortened to `sk-a…1234`."""
    result = settings
    for key in SECRET_KEYS:
        result = with_value(result, key, mask_secret(get_value(result, key)))
    return result


def mask_secret(secret: str) -> str:
    if not secret:
        return ""
    if len(secret) < 12:
        return "…"
    return f"{secret[:4]}…{secret[-4:]}"
