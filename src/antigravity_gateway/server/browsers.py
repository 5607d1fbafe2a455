"""Browser safety (README "Security"): which Host, Origin and Content-Type pass.

A web page the user opens must not be able to use the gateway: `Host` must name this machine
(so DNS rebinding fails), an `Origin` must be loopback, listed or the gateway's own, and JSON
routes take only JSON bodies. SDKs and CLIs send no Origin and a loopback Host, so they never
notice. CORS is never `*`.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..errors import Forbidden, GatewayError, UnsupportedMediaType
from ..settings import Settings

log = logging.getLogger(__name__)

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "localhost.localdomain"})
JSON_ROUTES = ("/v1/", "/v1beta/", "/api/", "/internal/")
HOSTS_KEPT = 256
MULTIPART_ROUTES = frozenset({"/v1/images/edits", "/v1/audio/transcriptions"})
EXPOSED = "X-Request-Id, X-Mapped-Model, X-Account-Email, request-id, Retry-After"
CORS_BASE = {
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, HEAD, OPTIONS, PATCH",
    "Access-Control-Max-Age": "3600",
    "Access-Control-Expose-Headers": EXPOSED,
    "Vary": "Origin",
}


class Misdirected(GatewayError):
    """A `Host` that does not name this machine (DNS rebinding, or a missing allowed_hosts)."""

    status = 421
    kind = "permission"


def machine_names() -> frozenset[str]:
    """This machine's host names and interface addresses (what LAN clients may put in Host)."""
    names = {socket.gethostname().lower(), socket.getfqdn().lower()}
    names |= {f"{name.split('.')[0]}.local" for name in list(names) if name}
    try:
        import psutil

        for addresses in psutil.net_if_addrs().values():
            names |= {a.address.split("%")[0].lower() for a in addresses
                      if a.family in (socket.AF_INET, socket.AF_INET6)}
    except (ImportError, OSError) as exc:  # pragma: no cover - psutil is a dependency
        log.warning("cannot list this machine's addresses: %s", exc)
    return frozenset(n for n in names if n)


def host_name(host: str) -> str:
    """`[::1]:8045` -> `::1`, `LocalHost.:80` -> `localhost`: the name without port or dot."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


@dataclass(frozen=True, slots=True)
class Policy:
    """What the settings allow; `machine` holds this machine's names (used with LAN access)."""

    allowed_hosts: frozenset[str]
    cors_origins: frozenset[str]
    lan: bool
    machine: frozenset[str]
    # Host values already judged (a few in use; at most HOSTS_KEPT, since clients choose them):
    # the parse and lookups cost ~1.5 us a request
    _hosts: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, settings: Settings, machine: frozenset[str]) -> Policy:
        proxy = settings.proxy
        return cls(
            allowed_hosts=frozenset(host_name(h) for h in proxy.allowed_hosts),
            cors_origins=frozenset(o.strip().rstrip("/").lower() for o in proxy.cors_origins),
            lan=proxy.allow_lan_access,
            machine=machine,
        )

    def host_ok(self, host: str | None) -> bool:
        """Loopback names, `proxy.allowed_hosts`, and with LAN access this machine's names."""
        if host is None:  # HTTP/1.0 without Host: no browser sends that
            return True
        if (known := self._hosts.get(host)) is None:
            known = self._judge_host(host)
            if len(self._hosts) < HOSTS_KEPT:
                self._hosts[host] = known
        return known

    def _judge_host(self, host: str) -> bool:
        name = host_name(host)
        if name in LOOPBACK_NAMES or name in self.allowed_hosts or "*" in self.allowed_hosts:
            return True
        if _is_loopback_ip(name):
            return True
        return self.lan and name in self.machine

    def origin_ok(self, origin: str, host: str | None) -> bool:
        """A loopback origin, one of proxy.cors_origins, or the gateway's own (the dashboard)."""
        origin = origin.strip().rstrip("/").lower()
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False  # "null" (sandboxed frames, file://) and garbage
        if origin in self.cors_origins or _port_wildcard(parts) in self.cors_origins:
            return True
        if parts.hostname in LOOPBACK_NAMES or _is_loopback_ip(parts.hostname):
            return True
        return host is not None and parts.netloc == host.strip().lower()


def live_policy(
    get_settings: Callable[[], Settings], machine: frozenset[str]
) -> Callable[[], Policy]:
    """The policy of the current settings, rebuilt when they change rather than per request."""
    last: tuple[Settings, Policy] | None = None

    def policy() -> Policy:
        nonlocal last
        settings = get_settings()
        if last is None or last[0] is not settings:
            last = (settings, Policy.of(settings, machine))
        return last[1]

    return policy


def _port_wildcard(parts: SplitResult) -> str:
    """`http://example.com:*` form of an origin, so cors_origins may allow any port."""
    return f"{parts.scheme}://{parts.hostname}:*"


def _is_loopback_ip(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_cross_site_fetch(request: web.Request) -> bool:
    """A browser's cross-site subresource request (no Origin on some GETs, e.g. `<img>`).
    Top-level navigations pass: a link to the dashboard must open it, and they read nothing."""
    headers = request.headers
    if headers.get("Sec-Fetch-Site", "").lower() != "cross-site":
        return False
    return headers.get("Sec-Fetch-Mode", "").lower() != "navigate" or request.method not in (
        "GET", "HEAD")


def check_body_type(request: web.Request) -> None:
    """415 for a body that is not JSON (or multipart where the route takes files), so no page
    can skip the CORS preflight with `text/plain`."""
    path = request.path
    if request.method not in ("POST", "PUT", "PATCH") or not path.startswith(JSON_ROUTES):
        return
    if not request.body_exists and request.content_length in (None, 0):
        return
    if path.startswith("/v1/api/event_logging"):
        return  # Claude Code's telemetry sink: read and dropped
    mime = request.content_type.lower()
    if mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json")):
        return
    if path in MULTIPART_ROUTES and mime == "multipart/form-data":
        return
    shown = request.headers.get("Content-Type") or "none"
    raise UnsupportedMediaType(
        f"Content-Type must be application/json (got {shown}); "
        "send the body as JSON with 'Content-Type: application/json'")


def cors_headers(request: web.Request, policy: Policy) -> dict[str, str]:
    """The CORS headers for an allowed browser origin; empty for everyone else."""
    origin = request.headers.get("Origin")
    if origin is None or not policy.origin_ok(origin, request.headers.get("Host")):
        return {}
    asked = request.headers.get("Access-Control-Request-Headers", "")
    allowed = asked or "Authorization, Content-Type, x-api-key, x-goog-api-key, anthropic-version"
    return {**CORS_BASE, "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Headers": allowed}


def guard(get_policy: Callable[[], Policy]) -> Middleware:
    """Refuse foreign Hosts (421), foreign browser origins (403), non-JSON bodies (415);
    answer allowed preflights (`cors` adds the headers to every answer)."""

    @web.middleware
    async def browsers(request: web.Request, handler: Handler) -> web.StreamResponse:
        policy = get_policy()
        host, origin = request.headers.get("Host"), request.headers.get("Origin")
        if not policy.host_ok(host):
            raise Misdirected(
                f"Host {host!r} does not name this machine; add it to proxy.allowed_hosts "
                "if you reach the gateway by that name")
        foreign = origin is not None and not policy.origin_ok(origin, host)
        if foreign or (origin is None and is_cross_site_fetch(request)):
            raise Forbidden(
                f"requests from the web origin {origin or 'of a cross-site page'} are refused; "
                "add it to proxy.cors_origins to allow it")
        if request.method == "OPTIONS":
            return web.Response(status=204, headers=cors_headers(request, policy))
        check_body_type(request)
        return await handler(request)

    return browsers


def cors(get_policy: Callable[[], Policy]) -> Callable[[web.Request, web.StreamResponse],
                                                         Awaitable[None]]:
    """An `on_response_prepare` hook: CORS headers on every answer to an allowed origin
    (errors and streams included)."""

    async def with_cors(request: web.Request, response: web.StreamResponse) -> None:
        if "Origin" in request.headers:
            response.headers.update(cors_headers(request, get_policy()))

    return with_cors
