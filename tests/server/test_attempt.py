"""The generic attempt loop as counting uses it: the same cooldowns as serving."""

from __future__ import annotations

import time

import pytest

from antigravity_gateway.app import build_app
from antigravity_gateway.core.messages import ChatRequest, Message, Text
from antigravity_gateway.server.context import GATEWAY
from tests.fakes import quota_exhausted, rate_limit_exceeded
from tests.fakes.cloudcode import FakeGoogle

from .test_pipeline import _enroll, _settings

FLASH = "gemini-3-flash"
HELLO = ChatRequest(model=FLASH, messages=(Message(role="user", parts=(Text(text="hello"),)),))


async def _gateway(fake: FakeGoogle, tmp_path, aiohttp_client):
    await _enroll(fake, tmp_path, "a@example.com", "b@example.com")
    client = await aiohttp_client(build_app(_settings(fake), tmp_path))
    return client.server.app[GATEWAY]


async def test_a_429_while_counting_cools_the_account(fake_google, tmp_path, aiohttp_client):
    gateway = await _gateway(fake_google, tmp_path, aiohttp_client)
    fake_google.script_for(quota_exhausted(FLASH, reset_in=3600), method="countTokens")
    assert await gateway.count_tokens(HELLO) > 0
    first, second = fake_google.calls("countTokens")
    assert first.status == 429 and second.status == 200 and first.email != second.email
    [cooldown] = gateway.pool.cooldowns()
    assert (cooldown.email, cooldown.model, cooldown.reason) == (
        first.email, FLASH, "quota_exhausted")
    assert cooldown.until == pytest.approx(time.time() + 3600, abs=5)
    for _ in range(5):  # the cooled account neither counts nor serves that model again
        await gateway.count_tokens(HELLO)
    assert {c.email for c in fake_google.calls("countTokens")[2:]} == {second.email}


async def test_counting_waits_for_a_briefly_limited_account(
    fake_google, tmp_path, aiohttp_client
):
    gateway = await _gateway(fake_google, tmp_path, aiohttp_client)
    fake_google.script_for(
        rate_limit_exceeded(FLASH, delay=0.2), rate_limit_exceeded(FLASH, delay=0.2),
        method="countTokens",
    )
    assert await gateway.count_tokens(HELLO) > 0
    statuses = [c.status for c in fake_google.calls("countTokens")]
    assert statuses == [429, 429, 200]


async def test_served_reports_attempts_and_credential(fake_google, tmp_path, aiohttp_client):
    gateway = await _gateway(fake_google, tmp_path, aiohttp_client)
    fake_google.script(quota_exhausted(FLASH))
    served = await gateway.serve(HELLO)
    while await served.events.take():
        pass
    streams = fake_google.calls("streamGenerateContent")
    assert served.attempts == 2 == len(streams)
    assert served.credential == streams[-1].email
    assert served.mapped_model == FLASH
    assert served.headers("r1")["X-Account-Email"] == served.credential
