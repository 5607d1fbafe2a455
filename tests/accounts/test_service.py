"""AccountService against the Google simulator: enroll, onboarding, fallback, refresh, revoke."""

from __future__ import annotations

import asyncio
import stat

import pytest
from msgspec.structs import replace

from antigravity_gateway.accounts import oauth
from antigravity_gateway.errors import UpstreamError
from antigravity_gateway.providers import cloudcode_setup
from tests.accounts.helpers import Harness, settings_for
from tests.fakes.errors import VALIDATION_URL, internal_error, not_found

EMAIL = "a@example.com"


async def test_enroll_onboarded_account(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a", project="rising-fact-p41fc",
                       quota={"claude-sonnet-4-6": 0.0, "gemini-3-flash": 0.25})
    account = await h.service().enroll("rt-a")
    assert (account.email, account.project_id) == (EMAIL, "rising-fact-p41fc")
    assert account.tier == "Gemini Code Assist for individuals"
    assert account.refresh_token == "rt-a" and account.access_token.startswith("ya29.")
    assert account.expires_at == h.clock.now + 3599 and not account.disabled
    assert account.quota.models["gemini-3-flash"].remaining_fraction == 0.25
    claude = account.quota.models["claude-sonnet-4-6"]
    assert claude.remaining_fraction == 0.0 and claude.reset_time  # omitted fraction -> 0
    assert account.quota.models["gemini-3-flash"].max_output_tokens > 0
    assert not any(name.startswith(("chat_", "tab_")) for name in account.quota.models)
    assert account.quota.forwarding.get("gemini-3-pro-high") == "gemini-pro-agent"
    assert h.store.load_all() == [account]
    path = h.data_dir / "accounts" / f"{account.id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    [load] = h.fake.calls("loadCodeAssist")
    assert load.body == {"metadata": cloudcode_setup.METADATA}
    assert h.fake.calls("fetchAvailableModels")[0].body == {"project": "rising-fact-p41fc"}
    [token] = h.fake.calls("token")
    assert token.body["grant_type"] == "refresh_token" and token.body["refresh_token"] == "rt-a"


async def test_enroll_object_project_and_paid_tier(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a", project="p-b", project_form="object",
                       paid_tier="g1-pro-tier")
    account = await h.service().enroll("rt-a")
    assert (account.project_id, account.tier) == ("p-b", "Google AI Pro")


async def test_enroll_onboards_polling_the_operation(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a", onboarded=False, onboard_polls=2,
                       project="zinc-cell-6bkmb")
    account = await h.service().enroll("rt-a")
    assert account.project_id == "zinc-cell-6bkmb"
    [onboard] = h.fake.calls("onboardUser")
    assert onboard.body["tierId"] == "free-tier" and "cloudaicompanionProject" not in onboard.body
    assert len(h.fake.calls("operation")) == 2


async def test_enroll_onboards_by_reposting_when_operations_404(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a", onboarded=False, onboard_polls=2,
                       project="zinc-cell-6bkmb")
    for host in ("sandbox", "daily", "prod"):
        h.fake.fail_host(host, not_found(), times=None, method="operation")
    account = await h.service().enroll("rt-a")
    assert account.project_id == "zinc-cell-6bkmb"
    assert len(h.fake.calls("onboardUser")) == 3


async def test_onboarding_that_never_finishes(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a", onboarded=False, onboard_polls=50)
    h.attempts = 3
    with pytest.raises(cloudcode_setup.AccountSetupError, match="did not finish after 3"):
        await h.service().enroll("rt-a")
    assert h.store.load_all() == []


async def test_validation_required(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a", validation_required=True)
    with pytest.raises(cloudcode_setup.ValidationRequired) as info:
        await h.service().enroll("rt-a")
    assert info.value.validation_url == VALIDATION_URL and VALIDATION_URL in str(info.value)
    assert h.store.load_all() == []


async def test_setup_calls_fall_back_to_the_next_base_url(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a")
    h.fake.take_down("sandbox")
    h.fake.fail_host("daily", internal_error(), times=None)
    account = await h.service().enroll("rt-a")
    assert account.project_id and account.quota.models
    assert [r.host for r in h.fake.calls("loadCodeAssist")] == ["sandbox", "daily", "prod"]
    assert h.fake.calls("fetchAvailableModels")[-1].host == "prod"


async def test_dead_first_url_then_fake(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a")
    settings = settings_for(h.fake, [h.fake.dead_base_url, h.fake.url("prod")])
    assert (await h.service(settings).enroll("rt-a")).email == EMAIL


async def test_enroll_rejected_token(h: Harness) -> None:
    with pytest.raises(oauth.InvalidGrant, match="Token has been expired or revoked"):
        await h.service().enroll("rt-unknown")
    assert h.store.load_all() == []


async def test_re_enrolling_updates_and_re_enables(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a")
    first = await h.service().enroll("rt-a")
    h.store.save(replace(first, disabled=True, disabled_reason="invalid_grant: revoked",
                         access_token="old"))
    again = await h.service().enroll("rt-a")
    assert again.id == first.id and again.created_at == first.created_at
    assert not again.disabled and again.disabled_reason == "" and again.access_token != "old"
    assert h.store.load_all() == [again]


async def test_fresh_token_only_when_expiring(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a")
    service = h.service()
    account = await service.enroll("rt-a")
    assert await service.fresh_token(account) is account
    assert len(h.fake.calls("token")) == 1
    h.clock.now += 3599 - 200  # within the 5-minute margin
    fresh = await service.fresh_token(account)
    assert fresh.access_token != account.access_token and len(h.fake.calls("token")) == 2
    assert fresh.expires_at == h.clock.now + 3599
    assert h.store.get(account.id) == fresh


async def test_forced_refresh_is_single_flight(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a")
    service = h.service()
    account = await service.enroll("rt-a")
    results = await asyncio.gather(*(service.fresh_token(account, force=True) for _ in range(5)))
    assert len(h.fake.calls("token")) == 2  # enroll + one shared refresh
    assert len({r.access_token for r in results}) == 1
    assert results[0].access_token != account.access_token


async def test_concurrent_expiring_callers_share_one_refresh(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a")
    service = h.service()
    account = await service.enroll("rt-a")
    h.clock.now += 4000
    results = await asyncio.gather(*(service.fresh_token(account) for _ in range(5)))
    assert len(h.fake.calls("token")) == 2 and len({r.access_token for r in results}) == 1


async def test_invalid_grant_disables_the_account(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a")
    service = h.service()
    account = await service.enroll("rt-a")
    h.fake.revoke("rt-a")
    with pytest.raises(oauth.InvalidGrant) as info:
        await service.fresh_token(account, force=True)
    assert info.value.description == "Token has been expired or revoked."
    stored = h.store.get(EMAIL)
    assert stored is not None and stored.disabled
    assert stored.disabled_reason == "invalid_grant: Token has been expired or revoked."
    calls = len(h.fake.calls("token"))
    with pytest.raises(oauth.InvalidGrant):  # known dead: no second round trip
        await service.fresh_token(account, force=True)
    assert len(h.fake.calls("token")) == calls


async def test_accounts_outside_the_store_are_not_written(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a")
    service = h.service()
    account = await service.enroll("rt-a")
    h.store.remove(EMAIL)
    fresh = await service.fresh_token(account, force=True)
    assert fresh.access_token != account.access_token and h.store.load_all() == []


async def test_refresh_quota(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a", quota={"gemini-3-flash": 0.5})
    service = h.service()
    account = await service.enroll("rt-a")
    h.fake.set_quota(EMAIL, "gemini-3-flash", fraction=0.1)
    h.clock.now += 60
    updated = await service.refresh_quota(account)
    assert updated.quota.models["gemini-3-flash"].remaining_fraction == pytest.approx(0.1)
    assert updated.quota.fetched_at == h.clock.now and h.store.get(EMAIL) == updated


async def test_refresh_quota_retries_once_after_a_401(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a")
    service = h.service()
    account = await service.enroll("rt-a")
    h.fake.expire_access_tokens(EMAIL)
    updated = await service.refresh_quota(account)
    assert updated.access_token != account.access_token and updated.quota.models
    assert len(h.fake.calls("token")) == 2
    assert [r.status for r in h.fake.calls("fetchAvailableModels")][-2:] == [401, 200]


async def test_refresh_quota_other_errors_propagate(h: Harness) -> None:
    h.fake.add_account(EMAIL, refresh_token="rt-a")
    service = h.service()
    account = await service.enroll("rt-a")
    for host in ("sandbox", "daily", "prod"):
        h.fake.fail_host(host, internal_error(), times=None)
    with pytest.raises(UpstreamError) as info:
        await service.refresh_quota(account)
    assert info.value.upstream_status == 500
