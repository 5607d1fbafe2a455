"""API-key authentication, exactly as the README states it.

Modes: off, strict, all_except_health, auto (= all_except_health with LAN access, else off).
Admin routes (`/api/`) always need the admin password (or the api_key when none is set),
whatever the mode, or a signed-in dashboard session (`server/sessions.py`).
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterator

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..errors import Unauthorized
from ..settings import Settings
from . import sessions

HEALTH_PATHS = frozenset({"/healthz", "/health"})
ADMIN_HEALTH = "/api/health"  # the one admin route without a key
KEYLESS_PATHS = frozenset({"/auth/callback"})  # Google sign-in callback: its state is the key


def presented_keys(request: web.Request) -> Iterator[str]:
    """`Authorization: Bearer <key>` (or the raw key), `x-api-key`, `x-goog-api-key`, `?key=`."""
    authorization = request.headers.get("Authorization", "")
    if authorization:
        scheme, _, rest = authorization.partition(" ")
        yield rest.strip() if scheme.lower() == "bearer" else authorization.strip()
    for header in ("x-api-key", "x-goog-api-key"):
        if value := request.headers.get(header):
            yield value.strip()
    if request.query_string and (value := request.query.get("key")):  # no query: no parsing
        yield value


def key_matches(request: web.Request, expected: str) -> bool:
    """True when some presented key equals `expected` (never true for an empty `expected`);
    every candidate is compared in constant time."""
    if not expected:
        return False
    want = expected.encode()
    matched = False
    for key in presented_keys(request):
        matched |= hmac.compare_digest(key.encode(), want)
    return matched


def is_exempt(request: web.Request, mode: str) -> bool:
    if request.method == "OPTIONS":
        return True
    if request.path == ADMIN_HEALTH and request.method in ("GET", "HEAD"):
        return True
    if request.method == "HEAD" and request.path == "/":
        return True  # Claude Code's connection warm-up carries no key
    if request.path in KEYLESS_PATHS or request.path == "/ui" or request.path.startswith("/ui/"):
        return True  # the dashboard's pages hold no data; the callback is guarded by its state
    if mode == "off":
        return not (request.path.startswith("/api/") or request.path == "/api")
    return mode == "all_except_health" and request.path in HEALTH_PATHS


def check(request: web.Request, settings: Settings) -> None:
    """Raise `Unauthorized` unless the request may pass."""
    if is_exempt(request, settings.effective_auth_mode):
        return
    admin = request.path.startswith("/api/") or request.path == "/api"
    proxy = settings.proxy
    if admin and has_session(request, sessions.admin_secret(proxy.admin_password, proxy.api_key)):
        return
    expected = proxy.admin_password if admin and proxy.admin_password else proxy.api_key
    if key_matches(request, expected):
        return
    if not any(presented_keys(request)):
        raise Unauthorized(
            "missing API key: send it as 'Authorization: Bearer <key>' or 'x-api-key'"
        )
    raise Unauthorized("invalid API key")


def has_session(request: web.Request, secret: str) -> bool:
    """A signed-in dashboard session; unsafe methods must also carry its CSRF token."""
    token = request.cookies.get(sessions.COOKIE, "")
    if not token or not sessions.valid(secret, token, time.time()):
        return False
    if request.method in sessions.SAFE_METHODS:
        return True
    return sessions.csrf_ok(secret, token, request.headers.get(sessions.CSRF_HEADER, ""))


def middleware(get_settings: Callable[[], Settings]) -> Middleware:
    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        check(request, get_settings())
        return await handler(request)

    return auth
