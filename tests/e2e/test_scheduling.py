"""`scheduling.mode = "cache_first"` through the running gateway (issue #19).

Two usable accounts: every new conversation goes to the model's current account, and a
QUOTA_EXHAUSTED for that model moves every later conversation to the other one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import quota_exhausted
from tests.fakes.cloudcode import FakeGoogle

FLASH = "gemini-3-flash"


@pytest.fixture(scope="module")
def gateway(fake: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    data_dir = Path(tmp_path_factory.mktemp("agm"))
    gateway = Gateway.start(fake, data_dir, accounts=2,
                            sections={"scheduling": {"mode": "cache_first"}})
    yield gateway
    gateway.stop()


def served_by(client: openai.OpenAI, first_message: str) -> str:
    raw = client.chat.completions.with_raw_response.create(
        model=FLASH, messages=[{"role": "user", "content": first_message}])
    assert raw.parse().choices[0].message.content
    return raw.headers["X-Account-Email"]


def test_cache_first_stays_on_one_account_until_it_is_exhausted(
    gateway: Gateway, fake: FakeGoogle
) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)
    before = {served_by(client, f"conversation {n}: what is {n} + {n}?") for n in range(10)}
    assert len(before) == 1
    [current] = before
    [other] = set(gateway.emails) - before
    fake.script_for(quota_exhausted(FLASH, reset_in=7200), model=FLASH, email=current)
    after = [served_by(client, f"later conversation {n}: spell {n}") for n in range(10)]
    assert after == [other] * 10
    refused = [c for c in fake.calls("streamGenerateContent") if c.status == 429]
    assert [c.email for c in refused] == [current]  # asked once, then never again
