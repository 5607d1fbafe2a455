"""The settings schema: one frozen Struct per `config.toml` section, and `validate`.

Mirrors the README's settings table. Types are checked by msgspec on load; `validate` checks
ranges and cross-field rules and names the dotted key of the first bad value. No IO here.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import msgspec

AUTH_MODES = ("off", "strict", "all_except_health", "auto")
SCHEDULING_MODES = ("balance", "cache_first", "round_robin")
UPSTREAM_KINDS = ("anthropic", "openai", "gemini")
DISPATCH_MODES = ("off", "exclusive", "pooled", "fallback")
STATE_BACKENDS = ("memory", "redis")
DEFAULT_BASE_URLS = [
    "https://daily-cloudcode-pa.sandbox.googleapis.com",
    "https://daily-cloudcode-pa.googleapis.com",
    "https://cloudcode-pa.googleapis.com",
]


class SettingsError(ValueError):
    """An invalid or unknown setting; `str()` is one line naming the dotted key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.message = message


class ProxySettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """[proxy]: where and how the gateway listens."""

    port: int = 8045
    allow_lan_access: bool = False
    auth_mode: str = "auto"
    api_key: str = ""
    admin_password: str = ""
    request_timeout: int = 600
    max_body_bytes: int = 104857600  # 100 MiB; big bodies are decoded off the event loop
    max_attempts: int = 3  # upstream attempts per request, each on the best remaining account
    max_wait_seconds: float = 10.0  # at most this long for a cooling account, then a 429
    cors_origins: list[str] = msgspec.field(default_factory=list)  # besides loopback origins
    allowed_hosts: list[str] = msgspec.field(default_factory=list)  # extra Host header values
    allow_private_fetch: bool = False  # image/file URLs may point at private addresses
    max_connections: int = 4096  # open client connections; idle ones are closed first beyond it

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
    """[upstream]: Google's Cloud Code endpoints, OAuth client and outbound proxy."""

    cloudcode_base_urls: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_BASE_URLS))
    oauth_auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    oauth_token_url: str = "https://oauth2.googleapis.com/token"
    userinfo_url: str = "https://www.googleapis.com/oauth2/v2/userinfo"
    # The public installed-app client of Antigravity (docs/upstream.md §6).
    oauth_client_id: str = (
        "1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com")
    oauth_client_secret: str = "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"
    proxy_url: str = ""
    user_agent: str = "antigravity/1.15.8 linux/amd64"


class ModelsSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """[models]: the custom mapping of client model names to upstream models."""

    custom_mapping: dict[str, str] = msgspec.field(default_factory=dict)


class SchedulingSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """[scheduling]: how the pool picks an account, and how long a session sticks."""

    mode: str = "balance"  # one of SCHEDULING_MODES
    sticky_ttl_seconds: float = 600.0


class QuotaSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """[quota]: how often quotas are refetched, and the % below which an account rests."""

    refresh_minutes: float = 10.0
    protection_threshold: float = 0.0


class MonitorSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """[monitor]: the request log: on or off, bodies kept, how long rows stay."""

    enabled: bool = True
    log_bodies: bool = True
    max_body_chars: int = 65536
    retention_days: int = 30


class UpstreamEntry(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """One `[[upstreams]]` table: an API-key upstream besides the Google account pool."""

    name: str
    kind: str
    base_url: str
    api_keys: list[str] = msgspec.field(default_factory=list)
    models: list[str] = msgspec.field(default_factory=list)


class ZaiMcpSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """[zai.mcp]: which of z.ai's MCP servers the gateway offers."""

    enabled: bool = False
    web_search: bool = True
    web_reader: bool = True
    vision: bool = True


class ZaiSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """[zai]: the z.ai upstream, and how Anthropic-protocol requests are sent to it."""

    enabled: bool = False
    api_key: str = ""
    base_url: str = "https://api.z.ai"
    dispatch_mode: str = "off"
    model_mapping: dict[str, str] = msgspec.field(default_factory=dict)
    mcp: ZaiMcpSettings = msgspec.field(default_factory=ZaiMcpSettings)


class StateSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """[state]: where shared routing state lives: this process, or Redis."""

    backend: str = "memory"  # memory (one process) | redis (shared by several)
    redis_url: str = "redis://127.0.0.1:6379/0"


class WarmupSettings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """[warmup]: scheduled warmup requests: which models, how often."""

    enabled: bool = False
    models: list[str] = msgspec.field(default_factory=lambda: ["gemini-3-flash"])
    interval_minutes: float = 60.0


class Settings(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """The whole `config.toml`: one immutable value; a change makes a new one."""

    proxy: ProxySettings = msgspec.field(default_factory=ProxySettings)
    upstream: UpstreamSettings = msgspec.field(default_factory=UpstreamSettings)
    models: ModelsSettings = msgspec.field(default_factory=ModelsSettings)
    scheduling: SchedulingSettings = msgspec.field(default_factory=SchedulingSettings)
    quota: QuotaSettings = msgspec.field(default_factory=QuotaSettings)
    monitor: MonitorSettings = msgspec.field(default_factory=MonitorSettings)
    upstreams: list[UpstreamEntry] = msgspec.field(default_factory=list)
    zai: ZaiSettings = msgspec.field(default_factory=ZaiSettings)
    state: StateSettings = msgspec.field(default_factory=StateSettings)
    warmup: WarmupSettings = msgspec.field(default_factory=WarmupSettings)

    @property
    def effective_auth_mode(self) -> str:
        return self.proxy.effective_auth_mode

    @property
    def bind_host(self) -> str:
        return self.proxy.bind_host


# --- validation ------------------------------------------------------------------------------

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
    if p.max_connections < 1:
        raise SettingsError("proxy.max_connections", "must be at least 1")
    _validate_resilience(settings)
    if not u.cloudcode_base_urls:
        raise SettingsError("upstream.cloudcode_base_urls", "must list at least one URL")
    for url in u.cloudcode_base_urls:
        _check_url("upstream.cloudcode_base_urls", url)
    _check_url("upstream.oauth_auth_url", u.oauth_auth_url)
    _check_url("upstream.oauth_token_url", u.oauth_token_url)
    _check_url("upstream.userinfo_url", u.userinfo_url)
    if u.proxy_url:
        _check_url("upstream.proxy_url", u.proxy_url)
    if not u.oauth_client_id:
        raise SettingsError("upstream.oauth_client_id", "must not be empty")
    for name in settings.models.custom_mapping:
        if not name:
            raise SettingsError("models.custom_mapping", "model names must not be empty")
    _validate_extensions(settings)


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




def _validate_extensions(settings: Settings) -> None:
    m, z, s, w = settings.monitor, settings.zai, settings.state, settings.warmup
    if m.max_body_chars < 0:
        raise SettingsError("monitor.max_body_chars", "must not be negative")
    if m.retention_days < 1:
        raise SettingsError("monitor.retention_days", "must be at least 1")
    if z.dispatch_mode not in DISPATCH_MODES:
        raise SettingsError("zai.dispatch_mode", f"must be one of {', '.join(DISPATCH_MODES)}")
    _check_url("zai.base_url", z.base_url)
    if s.backend not in STATE_BACKENDS:
        raise SettingsError("state.backend", f"must be one of {', '.join(STATE_BACKENDS)}")
    if s.backend == "redis" and urlsplit(s.redis_url).scheme not in ("redis", "rediss", "unix"):
        raise SettingsError("state.redis_url", "must be a redis://, rediss:// or unix:// URL")
    if w.interval_minutes <= 0:
        raise SettingsError("warmup.interval_minutes", "must be greater than 0")
    _validate_upstreams(settings.upstreams)


def _validate_upstreams(upstreams: list[UpstreamEntry]) -> None:
    seen: set[str] = set()
    for index, entry in enumerate(upstreams):
        key = f"upstreams.{entry.name or index}"
        if not entry.name or "/" in entry.name:
            raise SettingsError(f"{key}.name", "must be a non-empty name without '/'")
        if entry.name in seen:
            raise SettingsError(f"{key}.name", f"duplicate upstream name {entry.name!r}")
        seen.add(entry.name)
        if entry.kind not in UPSTREAM_KINDS:
            raise SettingsError(f"{key}.kind", f"must be one of {', '.join(UPSTREAM_KINDS)}")
        _check_url(f"{key}.base_url", entry.base_url)
        if not entry.api_keys or not all(entry.api_keys):
            raise SettingsError(f"{key}.api_keys", "must list at least one non-empty key")
