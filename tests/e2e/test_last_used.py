"""`last_used` is kept: the account that served a request shows it in `agm accounts list`
(saved in the background, and once more when the gateway stops)."""

from __future__ import annotations

import json
from pathlib import Path

import openai

from tests.e2e.gateway import API_KEY, Gateway, agm
from tests.fakes.cloudcode import FakeGoogle


def test_last_used_is_saved(fake: FakeGoogle, tmp_path: Path) -> None:
    gateway = Gateway.start(fake, tmp_path, accounts=2)
    try:
        client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)
        raw = client.chat.completions.with_raw_response.create(
            model="gemini-3-flash", messages=[{"role": "user", "content": "hi"}])
        served = raw.headers["X-Account-Email"]
    finally:
        assert gateway.stop() == 0
    listed = {a["email"]: a for a in json.loads(agm(tmp_path, "accounts", "list", "--json").stdout)}
    assert listed[served]["last_used"] > 0
    (other,) = set(listed) - {served}
    assert listed[other]["last_used"] == 0
    assert "last used 20" in agm(tmp_path, "accounts", "list").stdout
