"""OAuth side of the simulator: token grants, client checks, revocation, expiry, userinfo."""

from __future__ import annotations

import aiohttp
import pytest

from tests.fakes import FakeGoogle
from tests.fakes_tests.helpers import EMAIL, Client


async def _token(fake: FakeGoogle, session: aiohttp.ClientSession, **form: str) -> tuple[int, dict]:
    base = {"client_id": fake.options.client_id, "client_secret": fake.options.client_secret or ""}
    async with session.post(fake.token_url, data={**base, **form}) as response:
        return response.status, await response.json()


async def test_refresh_grant_issues_working_access_token(client: Client) -> None:
    status, body = await _token(
        client.fake, client.session, grant_type="refresh_token", refresh_token="fake-refresh-1"
    )
    assert status == 200
    assert (
        body["expires_in"] == 3599
        and body["token_type"] == "Bearer"
        and "refresh_token" not in body
    )
    assert body["access_token"].startswith("ya29.") and "cloud-platform" in body["scope"]
    assert (await client.call("loadCodeAssist", {}, token=body["access_token"]))[0] == 200
    [record] = client.fake.calls("token")
    assert record.email == EMAIL and record.body["grant_type"] == "refresh_token"


async def test_revoked_refresh_token_gets_invalid_grant_and_kills_access_tokens(
    client: Client,
) -> None:
    client.fake.revoke("fake-refresh-1")
    status, body = await _token(
        client.fake, client.session, grant_type="refresh_token", refresh_token="fake-refresh-1"
    )
    assert (status, body) == (
        400,
        {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )
    assert (await client.call("loadCodeAssist", {}))[0] == 401


@pytest.mark.parametrize(
    "form, description",
    [
        ({"client_id": "someone-else"}, "The OAuth client was not found."),
        ({"client_secret": "wrong"}, "Unauthorized"),
    ],
)
async def test_wrong_client_is_401_invalid_client(
    client: Client, form: dict, description: str
) -> None:
    status, body = await _token(
        client.fake,
        client.session,
        grant_type="refresh_token",
        refresh_token="fake-refresh-1",
        **form,
    )
    assert (status, body) == (401, {"error": "invalid_client", "error_description": description})


async def test_unsupported_grant_type(client: Client) -> None:
    status, body = await _token(client.fake, client.session, grant_type="password")
    assert status == 400 and body["error"] == "unsupported_grant_type"


async def test_authorization_code_grant_returns_refresh_token_once(client: Client) -> None:
    code = client.fake.authorization_code(EMAIL)
    status, body = await _token(
        client.fake,
        client.session,
        grant_type="authorization_code",
        code=code,
        redirect_uri="http://x",
    )
    assert (
        status == 200
        and body["refresh_token"] == "fake-refresh-1"
        and body["id_token"].count(".") == 2
    )
    status, body = await _token(
        client.fake, client.session, grant_type="authorization_code", code=code
    )
    assert (status, body["error"]) == (400, "invalid_grant")


def test_configured_lifetime_and_expiry() -> None:
    clock = [1000.0]
    fake = FakeGoogle(token_lifetime=5, clock=lambda: clock[0])
    fake.add_account(EMAIL)
    token = fake.issue_token(EMAIL)
    assert fake.accounts.resolve(token, fake.now()) is not None
    clock[0] += 5
    assert fake.accounts.resolve(token, fake.now()) is None


async def test_expired_access_token_is_401_unauthenticated(client: Client) -> None:
    client.fake.expire_access_tokens(EMAIL)
    status, body = await client.json("streamGenerateContent", {})
    assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
    assert body["error"]["details"][0]["reason"] == "ACCESS_TOKEN_EXPIRED"


async def test_missing_and_unknown_bearer(client: Client) -> None:
    async with client.session.post(
        client.fake.url("prod") + "/v1internal:loadCodeAssist", json={}
    ) as response:
        assert response.status == 401
        assert (await response.json())["error"]["details"][0]["reason"] == "CREDENTIALS_MISSING"
    assert (await client.call("loadCodeAssist", {}, token="ya29.nope"))[0] == 401


@pytest.mark.parametrize(
    "path", ["/oauth2/v2/userinfo", "/oauth2/v1/userinfo?alt=json", "/oauth2/v2/userinfo?alt=json"]
)
async def test_userinfo(client: Client, path: str) -> None:
    headers = {"Authorization": f"Bearer {client.token}"}
    async with client.session.get(client.fake.base_url + path, headers=headers) as response:
        body = await response.json()
    assert response.status == 200
    assert body["email"] == EMAIL and body["verified_email"] is True
    assert set(body) == {
        "id",
        "email",
        "verified_email",
        "name",
        "given_name",
        "family_name",
        "picture",
    }


async def test_userinfo_rejects_bad_token(client: Client) -> None:
    async with client.session.get(
        client.fake.userinfo_url, headers={"Authorization": "Bearer bad"}
    ) as response:
        assert response.status == 401
