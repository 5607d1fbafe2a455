"""Fake Google OAuth endpoints: `POST /token` (refresh_token and authorization_code grants) and
`GET /oauth2/v{1,2}/userinfo` (docs/upstream.md §6).

Client credentials come from the form (or HTTP Basic). The id_token is an unsigned-looking JWT whose
payload carries the email; nothing verifies it. Deliberately no PKCE, device flow or tokeninfo.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

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
        account = fake.accounts.redeem(form.get("code", ""))
        if account is None:
            return oauth_error(400, "invalid_grant", "Malformed auth code.")
    else:
        return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {grant}")
    record.email = account.email
    return json_outcome(_token_body(fake, account, with_refresh=grant == "authorization_code"))


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
