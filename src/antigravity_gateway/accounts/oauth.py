"""Google OAuth for upstream accounts: refresh-token and authorization-code grants, userinfo.

Follows docs/upstream.md §6: a form POST to the token endpoint, `invalid_grant`
raised as `InvalidGrant` (a GatewayError, so callers may treat it like any other gateway error,
but it means "this account is dead", not "retry"). It never logs tokens, never caches, and does
not decide what to do with a dead account; `account_service` does.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import msgspec

from ..core import network
from ..errors import GatewayError, UpstreamError
from ..settings import UpstreamSettings

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)  # connect: DNS, TCP and TLS
DEFAULT_EXPIRES_IN = 3599


class InvalidGrant(GatewayError):
    """The refresh token was revoked or expired (`invalid_grant`): the account needs re-adding."""

    status = 502
    kind = "api_error"

    def __init__(self, description: str) -> None:
        super().__init__(f"invalid_grant: {description}")
        self.description = description


class TokenGrant(msgspec.Struct, frozen=True, kw_only=True):
    """What Google's token endpoint returns for a refresh or a code exchange."""

    access_token: str
    expires_in: int = DEFAULT_EXPIRES_IN
    refresh_token: str | None = None  # normally absent on refresh: keep the old one


async def refresh_access_token(
    session: aiohttp.ClientSession, upstream: UpstreamSettings, refresh_token: str
) -> TokenGrant:
    """Exchange a refresh token for an access token; InvalidGrant or UpstreamError on failure."""
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": upstream.oauth_client_id,
        "client_secret": upstream.oauth_client_secret,
    }
    return await _token_request(session, upstream, form)


async def exchange_code(
    session: aiohttp.ClientSession, upstream: UpstreamSettings, code: str, *,
    verifier: str, redirect_uri: str,
) -> TokenGrant:
    """Redeem a sign-in's authorization code (PKCE verifier and the same redirect_uri)."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        "client_id": upstream.oauth_client_id,
        "client_secret": upstream.oauth_client_secret,
    }
    grant = await _token_request(session, upstream, form)
    if grant.refresh_token is None:
        raise UpstreamError(502, "", message="the token endpoint gave no refresh_token "
                            "(sign in again: the consent screen must be shown)")
    return grant


async def _token_request(
    session: aiohttp.ClientSession, upstream: UpstreamSettings, form: dict[str, str]
) -> TokenGrant:
    status, body = await _send(session, upstream, "POST", upstream.oauth_token_url, data=form)
    parsed = _json(body)
    if status >= 400:
        if parsed.get("error") == "invalid_grant":
            raise InvalidGrant(str(parsed.get("error_description") or "grant rejected"))
        raise UpstreamError(status, body, message=f"token endpoint returned HTTP {status}"
                            + _detail(parsed))
    token = parsed.get("access_token")
    if not isinstance(token, str) or not token:
        raise UpstreamError(502, "", message="token endpoint answered without an access_token")
    expires_in = parsed.get("expires_in")
    new_refresh = parsed.get("refresh_token")
    return TokenGrant(
        access_token=token,
        expires_in=int(expires_in) if isinstance(expires_in, int | float) else DEFAULT_EXPIRES_IN,
        refresh_token=new_refresh if isinstance(new_refresh, str) and new_refresh else None,
    )


async def fetch_email(
    session: aiohttp.ClientSession, upstream: UpstreamSettings, access_token: str
) -> str:
    """The account's email from the userinfo endpoint."""
    headers = {"Authorization": f"Bearer {access_token}"}
    status, body = await _send(session, upstream, "GET", upstream.userinfo_url, headers=headers)
    parsed = _json(body)
    if status >= 400:
        raise UpstreamError(status, body, message=f"userinfo returned HTTP {status}"
                            + _detail(parsed))
    email = parsed.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise UpstreamError(502, "", message="userinfo answered without an email")
    return email


async def _send(
    session: aiohttp.ClientSession, upstream: UpstreamSettings, verb: str, url: str,
    **kwargs: Any,
) -> tuple[int, str]:
    headers = {"User-Agent": upstream.user_agent, "Accept": "application/json"}
    headers.update(kwargs.pop("headers", {}))
    try:
        async with network.waiting_for(url), session.request(
            verb, url, headers=headers, proxy=upstream.proxy_url or None, timeout=TIMEOUT,
            **kwargs,
        ) as resp:
            return resp.status, (await resp.read()).decode("utf-8", errors="replace")
    except (aiohttp.ClientError, TimeoutError) as exc:
        reason = network.describe(exc, url, TIMEOUT)
        log.warning("OAuth endpoint unreachable: %s", reason)
        raise UpstreamError(502, "", message=f"OAuth endpoint unreachable: {reason}") from exc


def _json(body: str) -> dict[str, Any]:
    try:
        parsed = msgspec.json.decode(body) if body else {}
    except msgspec.DecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _detail(parsed: dict[str, Any]) -> str:
    """Google's OAuth error (`{"error": "...", "error_description": "..."}`) or API error."""
    err = parsed.get("error")
    if isinstance(err, dict):
        msg = err.get("message")
        return f": {msg}" if isinstance(msg, str) else ""
    if isinstance(err, str):
        desc = parsed.get("error_description")
        return f": {err}" + (f" ({desc})" if isinstance(desc, str) else "")
    return ""
