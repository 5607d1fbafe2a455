"""Fake Google OAuth endpoints: `GET /o/oauth2/v2/auth` (the consent page: redirects back with a
code, or `error=access_denied`), `POST /token` (refresh_token and authorization_code grants, PKCE
S256 checked, codes single use) and `GET /oauth2/v{1,2}/userinfo` (docs/upstream.md §6).

Client credentials come from the form (or HTTP Basic). The id_token is an unsigned-looking JWT whose
payload carries the email; nothing verifies it. Deliberately no device flow or tokeninfo.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from tests.fakes.accounts import Account
from tests.fakes.calls import Record
from tests.fakes.errors import Fault, unauthenticated
from tests.fakes.wire import Outcome, answer_outcome, json_outcome

SCOPES = " ".join(
    [
        "https://www.googleapis.com/auth/cloud-platform",
        "https://www.googleapis.com/auth/userinfo.email",
        "https://www.googleapis.com/auth/userinfo.profile",
        "openid",
        "https://www.googleapis.com/auth/cclog",
        "https://www.googleapis.com/auth/experimentsandconfigs",
    ]
)
OAUTH_JSON = "application/json; charset=utf-8"


def oauth_error(status: int, error: str, description: str | None = None) -> Outcome:
    body = (
        {"error": error}
        if description is None
        else {"error": error, "error_description": description}
    )
    return answer_outcome(Fault(status, body), OAUTH_JSON)


def _client(form: Mapping[str, str], headers: Mapping[str, str]) -> tuple[str, str]:
    auth = headers.get("Authorization", "")
    if auth.lower().startswith("basic "):
        client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def token(
    fake: Any, form: Mapping[str, str], headers: Mapping[str, str], record: Record
) -> Outcome:
    client_id, secret = _client(form, headers)
    if client_id != fake.options.client_id:
        return oauth_error(401, "invalid_client", "The OAuth client was not found.")
    if fake.options.client_secret is not None and secret != fake.options.client_secret:
        return oauth_error(401, "invalid_client", "Unauthorized")
    grant = form.get("grant_type", "")
    if grant == "refresh_token":
        account = fake.accounts.by_refresh_token(form.get("refresh_token", ""))
        if account is None:
            return oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
    elif grant == "authorization_code":
        account, problem = _redeem(fake, form)
        if account is None:
            return problem
    else:
        return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
    record.email = account.email
    return json_outcome(_token_body(fake, account, with_refresh=grant == "authorization_code"))


def _redeem(fake: Any, form: Mapping[str, str]) -> tuple[Account | None, Outcome]:
    """The account behind a code, or the error: unknown/replayed code, other redirect_uri,
    PKCE verifier missing or not matching the challenge (S256)."""
    grant = fake.accounts.redeem(form.get("code", ""))
    if grant is None:
        return None, oauth_error(400, "invalid_grant", "Malformed auth code.")
    if grant.redirect_uri and form.get("redirect_uri") != grant.redirect_uri:
        return None, oauth_error(400, "redirect_uri_mismatch", "Bad Request")
    if grant.challenge:
        verifier = form.get("code_verifier", "")
        if not verifier:
            return None, oauth_error(400, "invalid_grant", "Missing code verifier.")
        if _s256(verifier) != grant.challenge:
            return None, oauth_error(400, "invalid_grant", "Invalid code verifier.")
    return fake.accounts.accounts.get(grant.email), oauth_error(400, "invalid_grant", "Bad code.")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass
class Consent:
    """What the person at the consent page does: sign in as `email` (default: the first
    account) or refuse with `error` (e.g. "access_denied")."""

    email: str | None = None
    error: str = ""


HTML = "text/html; charset=utf-8"


def authorize(fake: Any, query: Mapping[str, str], record: Record) -> Outcome:
    """The consent page: a 302 back to redirect_uri with `code` and `state`, or an error page
    (400) when the request itself is bad, as Google shows one instead of redirecting."""
    problem = _bad_authorization(fake, query)
    if problem:
        return Outcome(status=400, body=f"<h1>Error 400: {problem}</h1>".encode(),
                       headers={"Content-Type": HTML})
    consent: Consent = fake.consent
    back: dict[str, str] = {}
    if consent.error:
        back["error"] = consent.error
    else:
        email = consent.email or next(iter(fake.accounts.accounts), None)
        if email is None:
            return Outcome(status=400, body=b"<h1>No Google account to sign in with</h1>",
                           headers={"Content-Type": HTML})
        record.email = email
        back["code"] = fake.accounts.new_code(
            email, redirect_uri=query["redirect_uri"],
            challenge=query.get("code_challenge", ""),
            challenge_method=query.get("code_challenge_method", ""))
    if "state" in query:
        back["state"] = query["state"]
    location = query["redirect_uri"] + ("&" if "?" in query["redirect_uri"] else "?")
    return Outcome(status=302, headers={"Location": location + urlencode(back),
                                        "Content-Type": HTML})


def _bad_authorization(fake: Any, query: Mapping[str, str]) -> str:
    if query.get("client_id") != fake.options.client_id:
        return "invalid_client"
    if query.get("response_type") != "code":
        return "unsupported_response_type"
    target = urlsplit(query.get("redirect_uri", ""))
    if target.scheme != "http" or target.hostname not in ("127.0.0.1", "localhost", "::1"):
        return "redirect_uri_mismatch"
    if "code_challenge" in query and query.get("code_challenge_method") != "S256":
        return "invalid_request (code_challenge_method)"
    if not set(SCOPES.split()) <= set(query.get("scope", "").split()):
        return "invalid_scope"
    return ""


def _token_body(fake: Any, account: Account, with_refresh: bool) -> dict[str, Any]:
    lifetime = fake.options.token_lifetime
    access = fake.accounts.issue(account.email, fake.now() + lifetime)
    body: dict[str, Any] = {
        "access_token": access,
        "expires_in": lifetime,
        "scope": SCOPES,
        "token_type": "Bearer",
    }
    body["id_token"] = _id_token(fake, account)
    if with_refresh:
        body["refresh_token"] = fake.accounts.ensure_refresh_token(account)
    return body


def _id_token(fake: Any, account: Account) -> str:
    now = int(fake.now())
    claims = {
        "iss": "https://accounts.google.com",
        "aud": fake.options.client_id,
        "sub": fake.accounts.user_id(account.email),
        "email": account.email,
        "email_verified": True,
        "iat": now,
        "exp": now + fake.options.token_lifetime,
    }
    parts = [{"alg": "RS256", "kid": "fake", "typ": "JWT"}, claims]
    encoded = [base64.urlsafe_b64encode(json.dumps(p).encode()).decode().rstrip("=") for p in parts]
    return ".".join([*encoded, "ZmFrZS1zaWduYXR1cmU"])


def userinfo(fake: Any, headers: Mapping[str, str], record: Record) -> Outcome:
    scheme, _, access = headers.get("Authorization", "").partition(" ")
    account = fake.accounts.resolve(access, fake.now()) if scheme.lower() == "bearer" else None
    if account is None:
        return answer_outcome(
            unauthenticated("CREDENTIALS_MISSING" if not access else "ACCESS_TOKEN_EXPIRED"),
            OAUTH_JSON,
        )
    record.email = account.email
    return json_outcome(account.userinfo(fake.accounts.user_id(account.email)))
