"""Google sign-in (OAuth authorization code + PKCE S256 + state), the protocol parts only.

`begin` builds the authorization URL as docs/upstream.md §10.6 describes it (authlib makes the
verifier, the S256 challenge and the query string); `read_callback` and `read_pasted` turn what
comes back into an `Answer`; `Pending` holds the gateway's started sign-ins. No sockets, no
token exchange (`oauth.exchange_code`), no account writing (`AccountService`).
"""

from __future__ import annotations

import hmac
import html
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from ..settings import UpstreamSettings

# The Antigravity scopes (docs/upstream.md §10.6).
SCOPES = (
    "openid",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
    "https://www.googleapis.com/auth/cclog",
    "https://www.googleapis.com/auth/experimentsandconfigs",
)
CALLBACK_PATH = "/oauth-callback"
PENDING_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class Authorization:
    """One started sign-in: where to send the browser and what the callback must match."""

    url: str
    state: str
    verifier: str
    redirect_uri: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back: a code (and the state it carried, if any) or an OAuth error."""

    code: str = ""
    state: str | None = None
    error: str = ""


def begin(upstream: UpstreamSettings, redirect_uri: str) -> Authorization:
    state = generate_token(32)
    verifier = generate_token(64)  # RFC 7636: 43-128 unreserved characters
    params = [
        ("client_id", upstream.oauth_client_id),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", " ".join(SCOPES)),
        ("access_type", "offline"),
        ("prompt", "consent"),
        ("state", state),
        ("code_challenge", create_s256_code_challenge(verifier)),  # type: ignore[no-untyped-call]
        ("code_challenge_method", "S256"),
    ]
    return Authorization(add_params_to_uri(upstream.oauth_auth_url, params), state, verifier,
                         redirect_uri)


def read_callback(query: Mapping[str, str]) -> Answer:
    """The callback's query: `code` + `state`, or `error` (e.g. access_denied)."""
    return Answer(code=query.get("code", "").strip(), state=query.get("state"),
                  error=query.get("error", "").strip())


def read_pasted(text: str) -> Answer:
    """A pasted redirected URL (or just its query) or a bare authorization code."""
    text = text.strip()
    query = urlsplit(text).query if "://" in text else text if "=" in text else ""
    if query:
        return read_callback(dict(parse_qsl(query)))
    return Answer(code=text)


def state_matches(answer: Answer, expected: str, *, required: bool = True) -> bool:
    """Constant-time check; a bare pasted code (`required=False`) carries no state."""
    if answer.state is None:
        return not required
    return hmac.compare_digest(answer.state.encode(), expected.encode())


class Pending:
    """Sign-ins started on the gateway, by state: each may be taken once, within 10 minutes."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._started: dict[str, tuple[float, Authorization]] = {}

    def start(self, upstream: UpstreamSettings, redirect_uri: str) -> Authorization:
        self._forget_expired()
        auth = begin(upstream, redirect_uri)
        self._started[auth.state] = (self._clock(), auth)
        return auth

    def take(self, state: str) -> Authorization | None:
        self._forget_expired()
        found = self._started.pop(state, None)
        return None if found is None else found[1]

    def _forget_expired(self) -> None:
        now = self._clock()
        for state in [s for s, (at, _) in self._started.items() if now - at > PENDING_SECONDS]:
            del self._started[state]


def page(title: str, message: str) -> str:
    """The small HTML page the browser gets after the callback."""
    title, message = html.escape(title), html.escape(message)
    return ("<!doctype html><html><head><meta charset=\"utf-8\">"
            f"<title>{title}</title></head><body style=\"font-family:sans-serif;margin:3em\">"
            f"<h1>{title}</h1><p>{message}</p></body></html>")


def signed_in_page(email: str) -> str:
    return page("Signed in", f"Signed in as {email}. You can close this tab.")


def failed_page(reason: str) -> str:
    return page("Sign-in failed", reason)
