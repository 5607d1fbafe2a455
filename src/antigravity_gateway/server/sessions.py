"""Dashboard sign-in sessions: stateless, HMAC-signed cookie values.

A token is `expiry.nonce.signature`, signed with a key derived from the admin credential, so
it holds across worker processes and restarts, and changing the admin password (or the
api_key it falls back to) signs every browser out. Unsafe methods also need the CSRF token,
derived from the session token, in `X-CSRF-Token` (the cookie is SameSite=Strict as well).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "agm_session"
CSRF_HEADER = "X-CSRF-Token"
TTL_SECONDS = 12 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def admin_secret(admin_password: str, api_key: str) -> str:
    """The credential the admin API and the dashboard accept."""
    return admin_password or api_key


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"agm-dashboard-session-v1", hashlib.sha256).digest()


def _sign(secret: str, payload: str) -> str:
    return hmac.new(_key(secret), payload.encode(), hashlib.sha256).hexdigest()


def issue(secret: str, now: float) -> str:
    """A new session token valid for TTL_SECONDS."""
    payload = f"{int(now) + TTL_SECONDS}.{secrets.token_hex(16)}"
    return f"{payload}.{_sign(secret, payload)}"


def valid(secret: str, token: str, now: float) -> bool:
    """True for an unexpired token signed with `secret` (never for an empty secret)."""
    payload, _, signature = token.rpartition(".")
    expiry, _, _ = payload.partition(".")
    if not secret or not expiry.isdigit():
        return False
    return hmac.compare_digest(signature, _sign(secret, payload)) and int(expiry) > now


def csrf_token(secret: str, token: str) -> str:
    return _sign(secret, "csrf:" + token)[:32]


def csrf_ok(secret: str, token: str, presented: str) -> bool:
    return bool(presented) and hmac.compare_digest(presented, csrf_token(secret, token))
