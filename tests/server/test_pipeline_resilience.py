"""Fault injection through the in-process gateway: cooldowns, waits, flags, stickiness, upkeep."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from msgspec.structs import replace

from antigravity_gateway import upkeep
from antigravity_gateway.accounts.state import load_cooldowns
from antigravity_gateway.accounts.store import AccountStore, Quota
from antigravity_gateway.app import build_app
from antigravity_gateway.errors import NoAccount
from antigravity_gateway.server import dialects
from antigravity_gateway.server.context import GATEWAY
from antigravity_gateway.server.pipeline import Gateway, human_duration
from tests.fakes import (
    BrokenStream,
    Reply,
    capacity_exhausted,
    quota_exhausted,
    rate_limit_exceeded,
    text,
    validation_required,
)
from tests.fakes.cloudcode import FakeGoogle
from tests.fakes.errors import VALIDATION_URL

from .test_pipeline import AUTH, _enroll, _settings

FLASH, PRO = "gemini-3-flash", "gemini-3.1-pro-low"
EMAILS = ("a@example.com", "b@example.com", "c@example.com")


async def _client(fake: FakeGoogle, tmp_path, aiohttp_client, count: int = 2, **proxy):
    await _enroll(fake, tmp_path, *EMAILS[:count])
    return await aiohttp_client(build_app(_settings(fake, **proxy), tmp_path))


def _gw(client) -> Gateway:
    return client.server.app[GATEWAY]


async def _chat(client, content: str = "hi", model: str = FLASH, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    return await client.post("/v1/chat/completions", headers=AUTH, json=body)


def _streamed_text(sse: str) -> str:
    chunks = [json.loads(line[6:]) for line in sse.splitlines()
              if line.startswith("data: {")]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def _streams(fake: FakeGoogle) -> list:
    return fake.calls("streamGenerateContent")


async def test_quota_429_moves_on_and_cools_that_model_until_the_reset(
    fake_google, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client)
    fake_google.script(quota_exhausted(FLASH, reset_in=7200))
    resp = await _chat(client)
    assert resp.status == 200
    first, second = _streams(fake_google)
    assert first.status == 429 and second.email != first.email
    assert resp.headers["X-Account-Email"] == second.email
    [cooldown] = _gw(client).pool.cooldowns()
    assert (cooldown.email, cooldown.model, cooldown.reason) == (
        first.email, FLASH, "quota_exhausted")
    assert cooldown.until == pytest.approx(time.time() + 7200, abs=5)
    for n in range(10):  # the cooled account never serves that model again
        resp = await _chat(client, f"question {n}")
        assert resp.headers["X-Account-Email"] == second.email
    served = set()
    for n in range(40):  # other models still use it
        resp = await _chat(client, f"pro question {n}", model=PRO)
        served.add(resp.headers["X-Account-Email"])
        if first.email in served:
            break
    assert first.email in served


async def test_rate_limit_is_a_short_cooldown_and_a_single_account_waits(
    fake_google, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client, count=1)
    fake_google.script(rate_limit_exceeded(FLASH, delay=0.3))
    started = time.monotonic()
    resp = await _chat(client)
    assert resp.status == 200
    assert [c.status for c in _streams(fake_google)] == [429, 200]
    assert 0.9 < time.monotonic() - started < 5  # waited the 1 s minimum cooldown, no more


async def test_capacity_503_backs_off_and_tries_another_account(
    fake_google, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client)
    fake_google.script(*[capacity_exhausted(FLASH, retry_delay="40s")] * 3)  # every base URL
    resp = await _chat(client)
    assert resp.status == 200
    calls = _streams(fake_google)
    assert [c.status for c in calls] == [503, 503, 503, 200]
    assert calls[-1].email != calls[0].email
    [cooldown] = _gw(client).pool.cooldowns()
    assert cooldown.until - time.time() <= 5.5  # brief, not the 40 s the upstream suggested


async def test_stream_broken_before_the_first_byte_is_retried_elsewhere(
    fake_google, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client)
    fake_google.script(Reply(text("lost"), BrokenStream(after_chunks=0)), text("second try"))
    resp = await _chat(client, stream=True)
    assert resp.status == 200
    body = (await resp.read()).decode()
    assert _streamed_text(body) == "second try" and '"error"' not in body
    first, second = _streams(fake_google)
    assert first.email != second.email
    assert resp.headers["X-Account-Email"] == second.email


async def test_all_accounts_exhausted_is_a_429_with_retry_after(
    fake_google, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client)
    fake_google.script(*[quota_exhausted(FLASH, reset_in=3600 + 120 + 5)] * 2)
    resp = await _chat(client)
    assert resp.status == 429
    assert 3600 <= int(resp.headers["Retry-After"]) <= 3726
    error = (await resp.json())["error"]
    assert error["type"] == "rate_limit_error"
    assert error["message"].startswith(
        f"all accounts are rate limited for {FLASH}; next reset in 1h")
    assert len(_streams(fake_google)) == 2
    again = await _chat(client, "another question")  # no upstream call while all are cooling
    assert again.status == 429 and len(_streams(fake_google)) == 2
    assert (await client.get("/healthz", headers=AUTH)).status == 200


def test_exhausted_error_in_each_protocol() -> None:
    err = NoAccount("all accounts are rate limited for m; next reset in 2m0s",
                    retry_after=120, rate_limited=True)
    shapes = {
        dialects.Dialect.OPENAI: lambda b: b["error"]["type"] == "rate_limit_error",
        dialects.Dialect.ANTHROPIC: lambda b: b["type"] == "error"
        and b["error"]["type"] == "rate_limit_error",
        dialects.Dialect.GEMINI: lambda b: b["error"]["code"] == 429
        and b["error"]["status"] == "RESOURCE_EXHAUSTED",
    }
    for dialect, shape in shapes.items():
        resp = dialects.error_response(dialect, err)
        assert resp.status == 429 and resp.headers["Retry-After"] == "120"
        assert resp.body is not None
        body = json.loads(bytes(resp.body))  # type: ignore[arg-type]
        assert shape(body), (dialect, body)
        assert "next reset in 2m0s" in json.dumps(body)


def test_human_duration() -> None:
    assert [human_duration(s) for s in (0.2, 4, 150, 33740.9)] == ["1s", "4s", "2m30s", "9h22m21s"]


async def test_validation_required_flags_the_account_with_its_url(
    fake_google, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client)
    fake_google.script(validation_required())
    resp = await _chat(client)
    assert resp.status == 200
    flagged_email = _streams(fake_google)[0].email
    flagged = _gw(client).pool.get(flagged_email)
    assert flagged is not None and flagged.needs_verification
    assert flagged.verification_url == VALIDATION_URL
    for n in range(6):
        resp = await _chat(client, f"q{n}")
        assert resp.headers["X-Account-Email"] != flagged_email
    for _ in range(50):  # saved to the account file in the background
        stored = AccountStore(tmp_path).by_email(flagged_email)
        if stored is not None and stored.needs_verification:
            break
        await asyncio.sleep(0.02)
    assert stored is not None and stored.verification_url == VALIDATION_URL


async def test_max_attempts_bounds_the_accounts_tried(
    fake_google, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client, count=3, max_attempts=2)
    for host in ("sandbox", "daily", "prod"):
        fake_google.fail_host(host, capacity_exhausted(status=500, retry_delay=None), times=None)
    resp = await _chat(client)
    assert resp.status == 500
    assert len(_streams(fake_google)) == 2 * 3  # two attempts, each over the three base URLs
    fake_google.heal()


async def test_sticky_session_keeps_a_conversation_on_one_account(
    fake_google, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client, count=3)
    history = [{"role": "user", "content": "Plan a trip to Lisbon"}]
    served = set()
    for turn in range(6):
        resp = await client.post("/v1/chat/completions", headers=AUTH,
                                 json={"model": FLASH, "messages": history})
        served.add(resp.headers["X-Account-Email"])
        answer = (await resp.json())["choices"][0]["message"]["content"]
        history += [{"role": "assistant", "content": answer},
                    {"role": "user", "content": f"and day {turn}?"}]
    assert len(served) == 1
    [email] = served
    fake_google.script(quota_exhausted(FLASH))  # the account runs out: the conversation moves
    resp = await client.post("/v1/chat/completions", headers=AUTH,
                             json={"model": FLASH, "messages": history})
    moved = resp.headers["X-Account-Email"]
    assert moved != email
    resp = await client.post("/v1/chat/completions", headers=AUTH,
                             json={"model": FLASH, "messages": history})
    assert resp.headers["X-Account-Email"] == moved


async def test_suffixes_and_family_rules_reach_the_upstream(
    fake_google, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client, count=1)
    resp = await _chat(client, model="gemini-3-flash(high)")
    assert resp.status == 200 and resp.headers["X-Mapped-Model"] == FLASH
    config = _streams(fake_google)[-1].request["generationConfig"]["thinkingConfig"]
    assert config["thinkingLevel"] == "high"
    resp = await _chat(client, model="claude-opus-4-8")
    assert resp.status == 200 and resp.headers["X-Mapped-Model"] == "claude-opus-4-6-thinking"
    assert (await resp.json())["model"] == "claude-opus-4-8"
    resp = await _chat(client, model="gemini-3-flsh")
    assert resp.status == 404 and "gemini-3-flash" in (await resp.json())["error"]["message"]


async def test_cooldowns_survive_a_restart(fake_google, tmp_path, aiohttp_client) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client)
    fake_google.script(quota_exhausted(FLASH, reset_in=7200))
    assert (await _chat(client)).status == 200
    cooled = _streams(fake_google)[0].email
    await client.close()  # shutdown saves the table
    assert [(c.email, c.model) for c in load_cooldowns(tmp_path)] == [(cooled, FLASH)]
    restarted = await aiohttp_client(build_app(_settings(fake_google), tmp_path))
    assert [c.email for c in _gw(restarted).pool.cooldowns()] == [cooled]
    for n in range(5):
        resp = await _chat(restarted, f"after restart {n}")
        assert resp.headers["X-Account-Email"] != cooled


async def test_never_fetched_quota_is_used_and_fetched_in_the_background(
    fake_google, tmp_path, aiohttp_client
) -> None:
    await _enroll(fake_google, tmp_path, "a@example.com")
    store = AccountStore(tmp_path)
    account = store.by_email("a@example.com")
    assert account is not None
    store.save(replace(account, quota=Quota()))
    client = await aiohttp_client(build_app(_settings(fake_google), tmp_path))
    resp = await _chat(client)
    assert resp.status == 200
    for _ in range(100):
        pooled = _gw(client).pool.get("a@example.com")
        if pooled is not None and pooled.quota.fetched_at:
            break
        await asyncio.sleep(0.02)
    assert pooled is not None and FLASH in pooled.quota.models
    assert fake_google.calls("fetchAvailableModels")


async def test_tokens_are_renewed_ahead_of_expiry(fake_google, tmp_path, aiohttp_client) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client, count=1)
    gateway = _gw(client)
    [account] = gateway.pool.usable()
    gateway.pool.update(replace(account, expires_at=time.time() + 120))  # within the margin
    fake_google.clear_received()
    await upkeep.renew_tokens(gateway)
    [renewed] = gateway.pool.usable()
    assert renewed.access_token != account.access_token
    assert renewed.expires_at > time.time() + 3000
    assert len(fake_google.calls("token")) == 1
    await upkeep.renew_tokens(gateway)  # nothing due: no call
    assert len(fake_google.calls("token")) == 1
    resp = await _chat(client)
    assert resp.status == 200 and [c.status for c in _streams(fake_google)] == [200]


async def test_invalid_grant_in_the_background_disables(
    fake_google, tmp_path, aiohttp_client
) -> None:
    client = await _client(fake_google, tmp_path, aiohttp_client)
    gateway = _gw(client)
    dying = gateway.pool.get("a@example.com")
    assert dying is not None
    fake_google.revoke("rt-a@example.com")
    gateway.pool.update(replace(dying, expires_at=time.time() + 60))
    await upkeep.renew_tokens(gateway)
    assert [a.email for a in gateway.pool.usable()] == ["b@example.com"]
    stored = AccountStore(tmp_path).by_email("a@example.com")
    assert stored is not None and stored.disabled
