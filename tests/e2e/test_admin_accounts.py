"""The admin API's Google sign-in, import and export against a running `agm serve`.

`POST /api/oauth/start` + the simulator's consent page + `GET /auth/callback` adds an account to
the running gateway, which serves with it within 2 seconds, without a restart.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import requests

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes.cloudcode import FakeGoogle

ADMIN = {"Authorization": f"Bearer {API_KEY}"}
NEW = "admin-signin@example.com"


@pytest.fixture(scope="module")
def served(fake: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = Gateway.start(fake, Path(tmp_path_factory.mktemp("agm")), accounts=0)
    yield gateway
    gateway.stop()


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def start(gateway: Gateway) -> dict[str, str]:
    answer = http().post(gateway.url + "/api/oauth/start", headers=ADMIN, timeout=10)
    assert answer.status_code == 200, answer.text
    started: dict[str, str] = answer.json()
    return started


def test_sign_in_through_the_gateway_serves_within_two_seconds(
        fake: FakeGoogle, served: Gateway) -> None:
    client = openai.OpenAI(base_url=served.url + "/v1", api_key=API_KEY, max_retries=0)
    with pytest.raises(openai.APIStatusError):  # no account yet
        client.chat.completions.create(model="gemini-3-flash",
                                       messages=[{"role": "user", "content": "hi"}])
    fake.add_account(NEW, quota={"gemini-3-flash": 0.9})
    fake.sign_in_as(NEW)
    try:
        started = start(served)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(started["url"]).query))
        assert query["state"] == started["state"]
        assert query["redirect_uri"] == f"{served.url}/auth/callback"
        page = http().get(started["url"], timeout=30)  # consent page -> the gateway's callback
        signed_in = time.monotonic()
    finally:
        fake.sign_in_as(None)
    assert page.status_code == 200 and f"Signed in as {NEW}" in page.text
    served_by = ""
    while not served_by and time.monotonic() - signed_in < 2.0:
        try:
            answer = client.chat.completions.with_raw_response.create(
                model="gemini-3-flash", messages=[{"role": "user", "content": "hi"}])
        except openai.APIStatusError:  # the gateway had no account before
            time.sleep(0.1)
            continue
        served_by = answer.headers["X-Account-Email"]
    assert served_by == NEW
    replay = http().get(page.url, timeout=10)  # the same callback again: the state is spent
    assert replay.status_code == 400


def test_callback_refuses_unknown_state_and_needs_no_key(served: Gateway) -> None:
    started = start(served)
    wrong = http().get(served.url + "/auth/callback",
                       params={"code": "x", "state": "forged"}, timeout=10)
    assert wrong.status_code == 400 and "text/html" in wrong.headers["Content-Type"]
    denied = http().get(served.url + "/auth/callback",
                        params={"error": "access_denied", "state": started["state"]}, timeout=10)
    assert denied.status_code == 400 and "access_denied" in denied.text


def test_start_needs_the_admin_key(served: Gateway) -> None:
    answer = http().post(served.url + "/api/oauth/start", timeout=10)
    assert answer.status_code == 401


def test_import_and_export(fake: FakeGoogle, served: Gateway) -> None:
    fake.add_account("imported@example.com", refresh_token="1//imported-token")
    body = {"accounts": [{"email": "imported@example.com", "refresh_token": "1//imported-token"},
                         {"email": "broken@example.com", "refresh_token": "1//no-such-token"},
                         {"email": "empty@example.com"}]}
    answer = http().post(served.url + "/api/accounts/import", json=body, headers=ADMIN,
                         timeout=30)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["added"], result["updated"], result["failed"]) == (1, 0, 2)
    statuses = {r["entry"]: (r["status"], r["error"]) for r in result["results"]}
    assert statuses["imported@example.com"] == ("added", None)
    assert statuses["broken@example.com"][1].startswith("Google rejected the refresh token")
    assert statuses["empty@example.com"] == ("failed", "no refresh_token")

    again = http().post(served.url + "/api/accounts/import", json=body["accounts"][:1],
                        headers=ADMIN, timeout=30).json()
    assert again["updated"] == 1 and again["added"] == 0
    exported = http().get(served.url + "/api/accounts/export", headers=ADMIN, timeout=10)
    emails = {a["email"]: a["refresh_token"] for a in exported.json()["accounts"]}
    assert emails["imported@example.com"] == "1//imported-token"
    assert "broken@example.com" not in emails and "empty@example.com" not in emails


def test_import_bad_bodies_change_nothing(served: Gateway) -> None:
    before = http().get(served.url + "/api/accounts/export", headers=ADMIN, timeout=10).json()
    for raw in (b"not json", b'{"something": "else"}', b"42"):
        answer = http().post(served.url + "/api/accounts/import", data=raw, timeout=10,
                             headers={**ADMIN, "Content-Type": "application/json"})
        assert answer.status_code == 400 and answer.json()["error"]
    after = http().get(served.url + "/api/accounts/export", headers=ADMIN, timeout=10).json()
    assert after == before
    assert http().get(served.url + "/api/accounts/export", timeout=10).status_code == 401
