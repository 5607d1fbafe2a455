"""Request ids in `agm serve`'s log: the access line (the monitor's) and every line logged while
the request is served carry it; retry lines say "retrying" only when another attempt starts;
requests the monitor does not record (unknown paths, refused keys) get an access line too."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import invalid_argument, rate_limit_exceeded
from tests.fakes.cloudcode import FakeGoogle, FakeGoogleThread

FLASH = "gemini-3-flash"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogleThread() as fake:
        for name in ("retry", "bad"):
            fake.add_model(dataclasses.replace(fake.models[FLASH], id=f"{FLASH}-{name}"))
        yield fake


@pytest.fixture(scope="module")
def gateway(fake: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    data_dir = Path(tmp_path_factory.mktemp("agm"))
    gateway = Gateway.start(fake, data_dir, accounts=2, max_attempts=2,
                            custom_mapping={"fast": FLASH})
    yield gateway
    gateway.stop()


def ask(gateway: Gateway, model: str, request_id: str) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0,
                           default_headers={"X-Request-Id": request_id})
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])


def lines_of(gateway: Gateway, request_id: str, *, count: int) -> list[str]:
    """The log lines tagged with `request_id`, once the access line is there."""
    deadline = time.monotonic() + 5
    while True:
        lines = [ln for ln in gateway.log.read_text().splitlines() if f"[{request_id}]" in ln]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_one_access_line_per_request(gateway: Gateway) -> None:
    ask(gateway, "fast", "req-ok")
    (line,) = lines_of(gateway, "req-ok", count=1)
    assert re.search(r"\[req-ok\] POST /v1/chat/completions 200 fast -> gemini-3-flash "
                     r"user[12]@example\.com \d+ms \d+/\d+ tokens$", line), line


def test_retry_lines_say_what_happened(gateway: Gateway, fake: FakeGoogle) -> None:
    model = f"{FLASH}-retry"
    fake.script_for(rate_limit_exceeded(model), model=model)
    ask(gateway, model, "req-retry")
    failed, retrying, access = lines_of(gateway, "req-retry", count=3)
    assert re.search(r"account user[12]@example\.com failed with 429 \(", failed), failed
    assert "retrying on account" in retrying and "(attempt 2 of 2)" in retrying
    assert f"POST /v1/chat/completions 200 {model} " in access


def test_a_failure_the_client_gets_is_not_called_a_retry(
    gateway: Gateway, fake: FakeGoogle
) -> None:
    model = f"{FLASH}-bad"
    fake.script_for(invalid_argument("contents: bad"), model=model)
    with pytest.raises(openai.BadRequestError):
        ask(gateway, model, "req-bad")
    lines = lines_of(gateway, "req-bad", count=2)
    assert len(lines) == 2, lines
    assert "failed with 400" in lines[0]
    assert f"POST /v1/chat/completions 400 {model} " in lines[1]
    assert not any("retry" in line or "trying again" in line for line in lines)


def test_unknown_path_and_auth_failures_are_logged_too(gateway: Gateway) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(gateway.url + "/v1/nothing",
                                     headers={"X-Request-Id": "req-404"})
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)
    (line,) = lines_of(gateway, "req-404", count=1)
    assert "GET /v1/nothing 401" in line  # strict auth answers before routing
    request = urllib.request.Request(gateway.url + "/healthz", headers={
        "X-Request-Id": "req-h", "Authorization": f"Bearer {API_KEY}"})
    urllib.request.urlopen(request, timeout=10).close()
    (line,) = lines_of(gateway, "req-h", count=1)
    assert "[req-h] GET /healthz 200" in line
