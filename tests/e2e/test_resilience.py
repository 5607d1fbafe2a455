"""Resilience through the running gateway (`agm serve`) with real SDKs and injected faults.

Each test uses its own upstream model id (clones of gemini-3-flash added to the simulator), so
the cooldowns one test leaves behind never touch another. Tests that take accounts out of the
pool (invalid_grant, verification) come last and aim at one account by email. The concurrency
test runs its own simulator and gateway.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import anthropic
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from antigravity_gateway.accounts.state import load_cooldowns
from tests.e2e.gateway import API_KEY, Gateway, agm
from tests.fakes import (
    BrokenStream,
    Reply,
    capacity_exhausted,
    quota_exhausted,
    rate_limit_exceeded,
    text,
    validation_required,
)
from tests.fakes.cloudcode import FakeGoogle, FakeGoogleThread
from tests.fakes.errors import VALIDATION_URL

FLASH = "gemini-3-flash"
ACCOUNTS = 4


def model(n: int) -> str:
    return f"{FLASH}-r{n}"


def add_models(fake: FakeGoogle, count: int) -> None:
    for n in range(count):
        fake.add_model(dataclasses.replace(fake.models[FLASH], id=model(n)))


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogleThread() as fake:
        add_models(fake, 12)
        yield fake


@pytest.fixture(scope="module")
def gateway(fake: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    data_dir = Path(tmp_path_factory.mktemp("agm"))
    gateway = Gateway.start(fake, data_dir, accounts=ACCOUNTS, max_attempts=ACCOUNTS)
    yield gateway
    gateway.stop()


@pytest.fixture
def client(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)


def ask(client: openai.OpenAI, name: str, content: str = "hi", **extra: object):
    """The raw response: `.headers`, and `.parse()` for the completion."""
    return client.chat.completions.with_raw_response.create(
        model=name, messages=[{"role": "user", "content": content}], **extra
    )


def streams(fake: FakeGoogle, name: str) -> list:
    return [c for c in fake.calls("streamGenerateContent") if c.model == name]


def listed(gateway: Gateway) -> dict[str, dict]:
    done = agm(gateway.data_dir, "accounts", "list", "--json")
    assert done.returncode == 0, done.stderr
    return {item["email"]: item for item in json.loads(done.stdout)}


def eventually(check, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def test_quota_429_moves_to_another_account_and_cools_only_that_model(
    client: openai.OpenAI, fake: FakeGoogle, gateway: Gateway
) -> None:
    fake.script_for(quota_exhausted(model(0), reset_in=7200), model=model(0))
    raw = ask(client, model(0))
    assert raw.parse().choices[0].message.content == f"Hello from {model(0)}."
    first, second = streams(fake, model(0))
    assert first.status == 429 and second.email != first.email
    assert raw.headers["X-Account-Email"] == second.email
    assert raw.headers["X-Mapped-Model"] == model(0)

    def cooling() -> list[dict]:
        return listed(gateway)[first.email]["cooldowns"]

    [cooldown] = eventually(cooling)  # persisted, and shown by `agm accounts list`
    assert cooldown["model"] == model(0) and cooldown["reason"] == "quota_exhausted"
    until = datetime.fromisoformat(cooldown["until"].replace("Z", "+00:00")).timestamp()
    assert abs(until - (time.time() + 7200)) < 60  # until the reset the upstream announced
    assert listed(gateway)[first.email]["status"] == "cooling"
    for n in range(8):
        assert ask(client, model(0), f"again {n}").headers["X-Account-Email"] != first.email
    served = {ask(client, model(1), f"other model {n}").headers["X-Account-Email"]
              for n in range(40)}
    assert first.email in served


def test_rate_limit_is_a_short_backoff(client: openai.OpenAI, fake: FakeGoogle) -> None:
    fake.script_for(rate_limit_exceeded(model(2), delay=0.5), model=model(2))
    started = time.monotonic()
    raw = ask(client, model(2))
    assert raw.parse().choices[0].message.content
    first, second = streams(fake, model(2))
    assert first.status == 429 and second.email != first.email
    assert time.monotonic() - started < 1.0  # another account answered: no waiting
    time.sleep(1.1)  # the cooldown is over: the account serves that model again
    served = {ask(client, model(2), f"later {n}").headers["X-Account-Email"] for n in range(40)}
    assert first.email in served


def test_capacity_503_tries_another_account(client: openai.OpenAI, fake: FakeGoogle) -> None:
    fake.script_for(*[capacity_exhausted(model(3))] * 3, model=model(3))  # all three base URLs
    raw = ask(client, model(3))
    assert raw.parse().choices[0].message.content
    calls = streams(fake, model(3))
    assert [c.status for c in calls] == [503, 503, 503, 200]
    assert calls[-1].email != calls[0].email


def test_stream_broken_before_the_first_byte_is_retried(
    client: openai.OpenAI, fake: FakeGoogle
) -> None:
    fake.script_for(Reply(text("lost"), BrokenStream(after_chunks=0)), text("second try"),
                    model=model(4))
    stream = client.chat.completions.create(
        model=model(4), messages=[{"role": "user", "content": "hi"}], stream=True
    )
    content = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert content == "second try"
    first, second = streams(fake, model(4))
    assert first.email != second.email


def test_stream_broken_after_the_first_byte_is_an_error_event_without_retry(
    client: openai.OpenAI, fake: FakeGoogle
) -> None:
    fake.script_for(Reply(text("a b c d", chunks=4), BrokenStream(after_chunks=2)),
                    model=model(5))
    stream = client.chat.completions.create(
        model=model(5), messages=[{"role": "user", "content": "hi"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError, match="broke"):
        for chunk in stream:
            received.append(chunk)
    assert received and len(streams(fake, model(5))) == 1


def test_all_accounts_exhausted_is_a_429_with_retry_after_in_every_protocol(
    client: openai.OpenAI, fake: FakeGoogle, gateway: Gateway
) -> None:
    fake.script_for(*[quota_exhausted(model(6), reset_in=5400)] * ACCOUNTS, model=model(6))
    with pytest.raises(openai.RateLimitError) as caught:
        ask(client, model(6))
    assert 5300 < int(caught.value.response.headers["Retry-After"]) <= 5400
    assert "all accounts are rate limited" in caught.value.message
    assert "next reset in 1h29m" in caught.value.message or "1h30m" in caught.value.message
    assert len(streams(fake, model(6))) == ACCOUNTS
    _anthropic_sees_a_429(gateway)
    _gemini_sees_a_429(gateway)
    assert len(streams(fake, model(6))) == ACCOUNTS  # nothing more went upstream


def _skip_unbuilt(status: int, what: str) -> None:
    if status == 501:
        pytest.skip(f"{what} route not built yet")


def _anthropic_sees_a_429(gateway: Gateway) -> None:
    sdk = anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)
    try:
        sdk.messages.create(model=model(6), max_tokens=64,
                            messages=[{"role": "user", "content": "hi from claude"}])
    except anthropic.APIStatusError as exc:
        _skip_unbuilt(exc.status_code, "Anthropic")
        assert isinstance(exc, anthropic.RateLimitError)
        assert int(exc.response.headers["retry-after"]) > 5000
        assert exc.body["type"] == "error"  # type: ignore[index]
        assert exc.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    else:
        pytest.fail("the Anthropic SDK got an answer")


def _gemini_sees_a_429(gateway: Gateway) -> None:
    options = types.HttpOptions(base_url=gateway.url, api_version="v1beta")
    sdk = genai.Client(api_key=API_KEY, http_options=options)
    try:
        sdk.models.generate_content(model=model(6), contents="hi from gemini")
    except genai_errors.APIError as exc:
        _skip_unbuilt(exc.code, "Gemini")
        assert exc.code == 429 and exc.status == "RESOURCE_EXHAUSTED"
        assert "all accounts are rate limited" in (exc.message or "")
    else:
        pytest.fail("the Gemini SDK got an answer")


def test_expired_access_tokens_are_refreshed_unnoticed(
    client: openai.OpenAI, fake: FakeGoogle, gateway: Gateway
) -> None:
    for email in gateway.emails:
        fake.expire_access_tokens(email)
    for n in range(3):
        assert ask(client, model(7), f"after expiry {n}").parse().choices[0].message.content
    assert fake.calls("token")
    assert [c.status for c in streams(fake, model(7))].count(200) == 3


def test_a_conversation_stays_on_its_account(client: openai.OpenAI) -> None:
    history = [{"role": "user", "content": "Plan a week in Porto"}]
    served = set()
    for turn in range(5):
        raw = client.chat.completions.with_raw_response.create(model=model(8), messages=history)
        served.add(raw.headers["X-Account-Email"])
        history += [{"role": "assistant", "content": raw.parse().choices[0].message.content},
                    {"role": "user", "content": f"and day {turn + 2}?"}]
    assert len(served) == 1


def test_family_rules_serve_unknown_client_defaults(client: openai.OpenAI) -> None:
    raw = ask(client, "claude-opus-4-8")
    assert raw.headers["X-Mapped-Model"] == "claude-opus-4-6-thinking"
    assert raw.parse().model == "claude-opus-4-8"
    with pytest.raises(openai.NotFoundError, match="did you mean"):
        ask(client, "gemini-3-flsh")


def test_validation_required_flags_the_account_until_it_is_enabled(
    client: openai.OpenAI, fake: FakeGoogle, gateway: Gateway
) -> None:
    target = gateway.emails[-2]
    fake.script_for(validation_required(), email=target, model=model(9))
    for n in range(60):  # until the target was picked and got its 403
        assert ask(client, model(9), f"verify {n}").parse().choices[0].message.content
        if not fake.pending():
            break
    assert not fake.pending()
    item = eventually(lambda: (i := listed(gateway)[target])["status"] != "active" and i)
    assert item["status"] == "needs_verification" and item["verification_url"] == VALIDATION_URL
    served = {ask(client, model(9), f"flagged {n}").headers["X-Account-Email"] for n in range(12)}
    assert target not in served
    assert agm(gateway.data_dir, "accounts", "enable", target).returncode == 0

    asked = iter(range(10_000))  # new conversations: no sticky binding from before the reload

    def back() -> bool:
        return any(ask(client, model(10), f"back {next(asked)}").headers["X-Account-Email"]
                   == target for _ in range(10))

    assert eventually(back, timeout=8)


def test_invalid_grant_disables_the_account(
    client: openai.OpenAI, fake: FakeGoogle, gateway: Gateway
) -> None:
    target = gateway.emails[-1]
    fake.revoke(f"rt-{target}")
    for n in range(60):
        assert ask(client, model(11), f"revoked {n}").parse().choices[0].message.content
        if listed(gateway)[target]["status"] == "disabled":
            break
    item = listed(gateway)[target]
    assert item["status"] == "disabled" and item["disabled_reason"].startswith("invalid_grant")


# ---- concurrency ----------------------------------------------------------------------------


def test_200_concurrent_streams_while_one_account_starts_returning_429(
    tmp_path: Path,
) -> None:
    name = model(0)
    with FakeGoogleThread(chunk_delay=0.5, text_chunks=4) as fake:  # each stream lasts ~2.5 s
        add_models(fake, 1)
        gateway = Gateway.start(fake, tmp_path / "agm", accounts=3)
        try:
            cooled = gateway.emails[0]
            fake.set_quota(cooled, name, limit=5, used=0)  # then QUOTA_EXHAUSTED until reset
            texts = asyncio.run(_two_waves(gateway, fake, name, cooled))
        finally:
            gateway.stop()
    assert texts == [f"Hello from {name}."] * 200
    to_cooled = fake.calls("streamGenerateContent", email=cooled)
    assert [c.status for c in to_cooled].count(200) == 5
    late = [c for c in to_cooled if _request_number(c) >= 100]
    assert not late, "a request went to the cooling account"
    assert len([c for c in fake.calls("streamGenerateContent") if c.status == 200]) == 200


def _request_number(call) -> int:
    return int(call.request["contents"][0]["parts"][0]["text"].removeprefix("request "))


async def _two_waves(gateway: Gateway, fake: FakeGoogle, name: str, cooled: str) -> list[str]:
    """100 streams; once the gateway has recorded the account's cooldown, 100 more while the
    first ones still run."""
    sdk = openai.AsyncOpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)

    async def one(n: int) -> str:
        stream = await sdk.chat.completions.create(
            model=name, messages=[{"role": "user", "content": f"request {n}"}], stream=True
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    first = [asyncio.create_task(one(n)) for n in range(100)]
    deadline = time.monotonic() + 10
    while not any(c.email == cooled for c in load_cooldowns(gateway.data_dir)):
        assert time.monotonic() < deadline, "the account was never cooled"
        await asyncio.sleep(0.05)
    assert not all(task.done() for task in first), "the first wave is over: not concurrent"
    second = [asyncio.create_task(one(n)) for n in range(100, 200)]
    texts = await asyncio.gather(*first, *second)
    await sdk.close()
    return list(texts)
