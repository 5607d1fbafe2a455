"""The simulator's consent page and the authorization_code grant: PKCE S256, single-use codes."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit

import aiohttp
import pytest

from tests.fakes import FakeGoogle
from tests.fakes.oauth import SCOPES
from tests.fakes_tests.helpers import EMAIL, Client

REDIRECT = "http://127.0.0.1:9/oauth-callback"
VERIFIER = "v" * 50


def challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip(
        "=")


def auth_query(fake: FakeGoogle, **overrides: str) -> dict[str, str]:
    return {"client_id": fake.options.client_id, "redirect_uri": REDIRECT,
            "response_type": "code", "scope": SCOPES, "state": "st-1",
            "code_challenge": challenge(VERIFIER), "code_challenge_method": "S256",
            **overrides}


async def consent(client: Client, **overrides: str) -> tuple[int, dict[str, str]]:
    url = client.fake.auth_url + "?" + urlencode(auth_query(client.fake, **overrides))
    async with client.session.get(url, allow_redirects=False) as response:
        location = response.headers.get("Location", "")
        back = dict(parse_qsl(urlsplit(location).query))
        if location:
            assert location.startswith(REDIRECT + "?")
        return response.status, back


async def redeem(client: Client, code: str, **form: str) -> tuple[int, dict[str, str]]:
    fake = client.fake
    data = {"client_id": fake.options.client_id, "client_secret": fake.options.client_secret or "",
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": VERIFIER, **form}
    async with client.session.post(fake.token_url, data=data) as response:
        return response.status, await response.json()


async def test_consent_redirects_back_with_code_and_state(client: Client) -> None:
    status, back = await consent(client)
    assert status == 302 and back["state"] == "st-1" and back["code"]
    [record] = client.fake.calls("authorize")
    assert record.email == EMAIL and record.query["code_challenge_method"] == "S256"
    status, body = await redeem(client, back["code"])
    assert status == 200 and body["refresh_token"] and body["access_token"]
    replayed = await redeem(client, back["code"])
    assert replayed == (400, {"error": "invalid_grant",
                              "error_description": "Malformed auth code."})


@pytest.mark.parametrize("form, error", [
    ({"code_verifier": "w" * 50}, "Invalid code verifier."),
    ({"code_verifier": ""}, "Missing code verifier."),
])
async def test_pkce_verifier_is_checked(client: Client, form: dict[str, str], error: str) -> None:
    _, back = await consent(client)
    status, body = await redeem(client, back["code"], **form)
    assert (status, body["error_description"]) == (400, error)


async def test_redirect_uri_must_match(client: Client) -> None:
    _, back = await consent(client)
    status, body = await redeem(client, back["code"], redirect_uri="http://127.0.0.1:8/x")
    assert (status, body["error"]) == (400, "redirect_uri_mismatch")


async def test_access_denied_knob_and_sign_in_as(client: Client) -> None:
    client.fake.refuse_sign_in()
    status, back = await consent(client)
    assert status == 302 and back == {"error": "access_denied", "state": "st-1"}
    client.fake.add_account("other@example.com")
    client.fake.sign_in_as("other@example.com")
    _, back = await consent(client)
    _, body = await redeem(client, back["code"])
    async with client.session.get(client.fake.userinfo_url, headers={
            "Authorization": f"Bearer {body['access_token']}"}) as response:
        assert (await response.json())["email"] == "other@example.com"


@pytest.mark.parametrize("overrides, error", [
    ({"client_id": "someone-else"}, "invalid_client"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"redirect_uri": "https://evil.example/cb"}, "redirect_uri_mismatch"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"scope": "openid"}, "invalid_scope"),
])
async def test_bad_authorization_requests_get_an_error_page(
        client: Client, overrides: dict[str, str], error: str) -> None:
    url = client.fake.auth_url + "?" + urlencode(auth_query(client.fake, **overrides))
    async with client.session.get(url, allow_redirects=False) as response:
        assert response.status == 400 and error in await response.text()


async def test_consent_page_without_accounts(fake_google: FakeGoogle) -> None:
    async with aiohttp.ClientSession() as session:
        url = fake_google.auth_url + "?" + urlencode(auth_query(fake_google))
        async with session.get(url, allow_redirects=False) as response:
            assert response.status == 400
