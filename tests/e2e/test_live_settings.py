"""Live settings: `agm config set`, `agm key --regenerate` and hand edits reach a running
`agm serve` within 2 s, without a restart; an invalid edit leaves the last good settings."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest

from tests.e2e.gateway import API_KEY, Gateway, agm
from tests.fakes.cloudcode import FakeGoogle

LIVE_WITHIN = 2.0  # the bound the issue asks for
SLACK = 3.0  # a loaded test machine


@pytest.fixture
def live(fake: FakeGoogle, tmp_path: Path) -> Iterator[Gateway]:
    gateway = Gateway.start(fake, tmp_path, accounts=1)
    yield gateway
    gateway.stop()


def models_status(gateway: Gateway, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    request = urllib.request.Request(gateway.url + "/v1/models", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def within(seconds: float, check: Callable[[], bool]) -> float:
    """Seconds until `check()` holds; fails after `seconds`."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"not applied within {seconds} s")


def chat(gateway: Gateway, model: str, key: str = API_KEY) -> str:
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0)
    answer = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "hi"}])
    return answer.headers["X-Mapped-Model"]


def test_config_set_mapping_applies_live(live: Gateway) -> None:
    with pytest.raises(openai.NotFoundError):
        chat(live, "my-alias")
    done = agm(live.data_dir, "config", "set", "models.custom_mapping.my-alias", "gemini-3-flash")
    assert done.returncode == 0, done.stderr

    def mapped() -> bool:
        try:
            return chat(live, "my-alias") == "gemini-3-flash"
        except openai.NotFoundError:
            return False

    assert within(LIVE_WITHIN + SLACK, mapped) < LIVE_WITHIN + SLACK
    assert "settings applied: models.custom_mapping" in live.log_with("settings applied")


def test_auth_mode_and_key_apply_live(live: Gateway) -> None:
    assert agm(live.data_dir, "config", "set", "proxy.auth_mode", "off").returncode == 0
    within(LIVE_WITHIN + SLACK, lambda: models_status(live, None) == 200)
    assert agm(live.data_dir, "config", "set", "proxy.auth_mode", "strict").returncode == 0
    within(LIVE_WITHIN + SLACK, lambda: models_status(live, None) == 401)

    new_key = agm(live.data_dir, "key", "--regenerate").stdout.strip()
    within(LIVE_WITHIN + SLACK, lambda: models_status(live, new_key) == 200)
    assert models_status(live, API_KEY) == 401  # the old key stops working


def test_invalid_hand_edit_keeps_the_last_good_settings(live: Gateway) -> None:
    path = live.data_dir / "config.toml"
    good = path.read_text()
    path.write_text(good.replace('auth_mode = "strict"', 'auth_mode = "sometimes"'))
    time.sleep(LIVE_WITHIN + 1)
    assert models_status(live, None) == 401 and models_status(live, API_KEY) == 200
    path.write_text(good + "\n[proxy\n")  # not even TOML
    time.sleep(LIVE_WITHIN + 1)
    assert chat(live, "gemini-3-flash") == "gemini-3-flash"
    log = live.log.read_text()
    assert log.count("proxy.auth_mode: must be one of") == 1  # logged once
    assert "invalid TOML" in log and "previous settings stay in force" in log


def test_port_change_says_restart(live: Gateway) -> None:
    assert agm(live.data_dir, "config", "set", "proxy.port", str(live.port + 1)).returncode == 0
    within(LIVE_WITHIN + SLACK, lambda: "restart agm serve" in live.log.read_text())
    assert models_status(live, API_KEY) == 200  # still listening where it was
