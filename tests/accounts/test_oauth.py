"""OAuth helpers against the simulator: grant parsing, client errors, userinfo, outbound proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import msgspec
import pytest

from antigravity_gateway.accounts import oauth
from antigravity_gateway.errors import UpstreamError
from tests.accounts.helpers import settings_for
from tests.fakes.cloudcode import FakeGoogle

EMAIL = "a@example.com"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def test_refresh_and_userinfo(
    fake_google: FakeGoogle, session: aiohttp.ClientSession
) -> None:
    fake_google.add_account(EMAIL, refresh_token="rt-a")
    upstream = settings_for(fake_google).upstream
    grant = await oauth.refresh_access_token(session, upstream, "rt-a")
    assert grant.access_token.startswith("ya29.") and grant.expires_in == 3599
    assert grant.refresh_token is None
    assert await oauth.fetch_email(session, upstream, grant.access_token) == EMAIL
    [token] = fake_google.calls("token")
    assert token.body["client_id"] == upstream.oauth_client_id
    assert token.body["client_secret"] == upstream.oauth_client_secret


async def test_invalid_grant(fake_google: FakeGoogle, session: aiohttp.ClientSession) -> None:
    with pytest.raises(oauth.InvalidGrant) as info:
        await oauth.refresh_access_token(session, settings_for(fake_google).upstream, "nope")
    assert str(info.value) == "invalid_grant: Token has been expired or revoked."


async def test_wrong_client_is_an_upstream_error(
    fake_google: FakeGoogle, session: aiohttp.ClientSession
) -> None:
    fake_google.add_account(EMAIL, refresh_token="rt-a")
    upstream = msgspec.structs.replace(settings_for(fake_google).upstream,
                                       oauth_client_secret="wrong")
    with pytest.raises(UpstreamError) as info:
        await oauth.refresh_access_token(session, upstream, "rt-a")
    assert info.value.upstream_status == 401 and "invalid_client" in info.value.message
    assert not isinstance(info.value, oauth.InvalidGrant)


async def test_userinfo_with_a_bad_token(
    fake_google: FakeGoogle, session: aiohttp.ClientSession
) -> None:
    with pytest.raises(UpstreamError) as info:
        await oauth.fetch_email(session, settings_for(fake_google).upstream, "ya29.bogus")
    assert info.value.upstream_status == 401


async def test_the_outbound_proxy_is_used(
    fake_google: FakeGoogle, session: aiohttp.ClientSession
) -> None:
    fake_google.add_account(EMAIL, refresh_token="rt-a")
    upstream = msgspec.structs.replace(settings_for(fake_google).upstream,
                                       proxy_url="http://127.0.0.1:9")
    with pytest.raises(UpstreamError, match="unreachable"):
        await oauth.refresh_access_token(session, upstream, "rt-a")
    assert fake_google.calls("token") == []
