"""The sign-in protocol parts (URL, answers, pending sign-ins) and `SignIn.complete`."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qsl, urlsplit

import pytest

from antigravity_gateway.accounts import login
from antigravity_gateway.quota_view import bar, quota_lines, until
from antigravity_gateway.settings import UpstreamSettings
from antigravity_gateway.signin import SignIn, SignInError
from tests.accounts.helpers import Clock, Harness
from tests.accounts.test_store import make

REDIRECT = "http://127.0.0.1:5555/oauth-callback"


def test_authorization_url_has_exactly_the_interface_parameters() -> None:
    auth = login.begin(UpstreamSettings(), REDIRECT)
    parts = urlsplit(auth.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://accounts.google.com/o/oauth2/v2/auth")
    query = dict(parse_qsl(parts.query))
    assert set(query) == {"client_id", "redirect_uri", "response_type", "scope", "access_type",
                          "prompt", "state", "code_challenge", "code_challenge_method"}
    assert query["redirect_uri"] == REDIRECT and query["state"] == auth.state
    assert query["scope"].split() == list(login.SCOPES)
    digest = hashlib.sha256(auth.verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert 43 <= len(auth.verifier) <= 128
    assert login.begin(UpstreamSettings(), REDIRECT).state != auth.state


def test_pasted_answers() -> None:
    url = f"{REDIRECT}?state=s1&code=4/0Abc&scope=openid"
    assert login.read_pasted(f"  {url}\n") == login.Answer(code="4/0Abc", state="s1")
    assert login.read_pasted("code=4/0Abc&state=s1") == login.Answer(code="4/0Abc", state="s1")
    assert login.read_pasted("4/0Abc") == login.Answer(code="4/0Abc")
    assert login.read_pasted(f"{REDIRECT}?error=access_denied&state=s1").error == "access_denied"
    assert login.state_matches(login.Answer(code="c"), "s1", required=False)
    assert not login.state_matches(login.Answer(code="c"), "s1")
    assert not login.state_matches(login.Answer(code="c", state="s2"), "s1", required=False)


def test_pending_sign_ins_are_single_use_and_expire() -> None:
    clock = Clock()
    pending = login.Pending(clock)
    first = pending.start(UpstreamSettings(), REDIRECT)
    assert pending.take("unknown") is None
    assert pending.take(first.state) == first and pending.take(first.state) is None
    late = pending.start(UpstreamSettings(), REDIRECT)
    clock.now += login.PENDING_SECONDS + 1
    assert pending.take(late.state) is None


def test_quota_bars() -> None:
    assert bar(0) == "░" * 10 and bar(100) == "█" * 10 and bar(55) == "█" * 6 + "░" * 4
    now = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    assert until("2026-01-01T04:12:30Z", now) == "in 4h12m"
    assert until("2026-01-03T01:00:00Z", now) == "in 2d1h"
    assert until("2025-12-31T00:00:00Z", now) == "now" and until("soon", now) == "soon"
    from antigravity_gateway.accounts.store import ModelQuota, Quota
    account = make(quota=Quota(models={"gemini-3-flash": ModelQuota(
        remaining_fraction=0.5, reset_time="2026-01-01T00:30:00Z")}))
    assert quota_lines(account, now) == "gemini-3-flash: 50% █████░░░░░ resets in 30m"
    assert quota_lines(make(), now) == "-"


def code_for(h: Harness, auth: login.Authorization, email: str) -> str:
    digest = hashlib.sha256(auth.verifier.encode()).digest()
    return h.fake.authorization_code(
        email, redirect_uri=auth.redirect_uri, challenge_method="S256",
        challenge=base64.urlsafe_b64encode(digest).decode().rstrip("="))


async def test_sign_in_re_enables_a_dead_account(h: Harness) -> None:
    h.fake.add_account("dead@example.com", refresh_token="1//old-token")
    service = h.service()
    account = await service.enroll("1//old-token")
    h.store.save(make("dead@example.com", id=account.id, disabled=True,
                      disabled_reason="invalid_grant: Token has been expired or revoked."))
    h.fake.revoke("1//old-token")
    flow = SignIn(service, login.begin(service.upstream, REDIRECT))
    status, _ = await flow.complete(login.Answer(code=code_for(h, flow.auth, "dead@example.com"),
                                                 state="forged"))
    assert status == 400 and not flow.done.done()  # keeps waiting
    status, page = await flow.complete(login.Answer(
        code=code_for(h, flow.auth, "dead@example.com"), state=flow.auth.state))
    assert status == 200 and "dead@example.com" in page
    enrolled = flow.done.result()
    assert not enrolled.created and enrolled.account.id == account.id
    (stored,) = h.store.load_all()
    assert not stored.disabled and stored.refresh_token not in ("", "1//old-token")


async def test_replayed_code_fails_the_sign_in(h: Harness) -> None:
    h.fake.add_account("a@example.com")
    service = h.service()
    flow = SignIn(service, login.begin(service.upstream, REDIRECT))
    code = code_for(h, flow.auth, "a@example.com")
    other = SignIn(service, flow.auth)  # e.g. a second tab: the code is redeemed there first
    assert (await other.complete(login.Answer(code=code, state=flow.auth.state)))[0] == 200
    status, page = await flow.complete(login.Answer(code=code, state=flow.auth.state))
    assert status == 400 and "invalid_grant" in page
    with pytest.raises(SignInError, match="the sign-in failed: invalid_grant"):
        flow.done.result()
    assert len(h.store.load_all()) == 1
