"""Images in the account pool, warmup and model detection, through the running gateway."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import requests

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import invalid_argument, quota_exhausted
from tests.fakes.cloudcode import FakeGoogle, FakeGoogleThread
from tests.fakes.defaults import PNG_1X1

IMAGE_MODEL = "gemini-3.1-flash-image"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def post(gateway: Gateway, path: str, body: Any) -> requests.Response:
    return requests.post(gateway.url + path, json=body, headers=AUTH, timeout=30)


def test_a_quota_429_during_image_generation_rotates_accounts(
    gateway: Gateway, fake: FakeGoogle
) -> None:
    fake.script_for(quota_exhausted(IMAGE_MODEL, reset_in=7200), model=IMAGE_MODEL)
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)
    raw = client.images.with_raw_response.generate(prompt="a red fox", size="1:1")
    done = raw.parse()
    assert done.data is not None and base64.b64decode(done.data[0].b64_json or "") == (
        base64.b64decode(PNG_1X1)
    )
    first, second = fake.calls("streamGenerateContent")
    assert first.status == 429 and second.status == 200 and first.email != second.email
    assert raw.headers["X-Account-Email"] == second.email
    assert raw.headers["X-Mapped-Model"] == IMAGE_MODEL


def test_warmup_runs_one_request_on_the_named_account(gateway: Gateway, fake: FakeGoogle) -> None:
    email = gateway.emails[1]
    answer = post(gateway, "/internal/warmup", {"email": email, "model": "gemini-3-flash"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True, "message": "Warmup triggered for gemini-3-flash"}
    assert answer.headers["X-Account-Email"] == email
    [call] = fake.calls("streamGenerateContent")
    assert call.email == email
    assert call.body["request"]["contents"][0]["parts"][0]["text"] == "Say hi"


def test_warmup_failures(gateway: Gateway, fake: FakeGoogle) -> None:
    email = gateway.emails[0]
    fake.script_for(invalid_argument("Request contains an invalid argument."), email=email)
    failed = post(gateway, "/internal/warmup", {"email": email, "model": "gemini-3-flash"})
    assert failed.status_code == 400 and failed.json()["success"] is False
    assert failed.json()["message"] == "Warmup failed: HTTP 400"
    assert [c.email for c in fake.calls("streamGenerateContent")] == [email]  # no other account
    unknown = post(gateway, "/internal/warmup", {"email": "nobody@x.y", "model": "gemini-3-flash"})
    assert unknown.status_code == 404 and "nobody@x.y" in unknown.json()["error"]["message"]
    missing = post(gateway, "/internal/warmup", {"email": email})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "model"


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gemini-3.1-flash-image-4k-16x9", {
            "model": "gemini-3.1-flash-image-4k-16x9", "mapped_model": IMAGE_MODEL,
            "type": "image_gen", "features": {"has_web_search": False, "is_image_gen": True},
            "config": {"aspectRatio": "16:9", "imageSize": "4K"}}),
        ("gemini-3-flash-online", {
            "model": "gemini-3-flash-online", "mapped_model": "gemini-3-flash",
            "type": "web_search", "features": {"has_web_search": True, "is_image_gen": False}}),
        ("gpt-4o", {
            "model": "gpt-4o", "mapped_model": "gemini-3-flash", "type": "agent",
            "features": {"has_web_search": False, "is_image_gen": False}}),
    ],
)  # fmt: skip
def test_detect(gateway: Gateway, fake: FakeGoogle, model: str, expected: Any) -> None:
    answer = post(gateway, "/v1/models/detect", {"model": model})
    assert answer.status_code == 200, answer.text
    assert answer.json() == expected
    assert fake.calls("streamGenerateContent") == []


def test_detect_bad_input(gateway: Gateway) -> None:
    missing = post(gateway, "/v1/models/detect", {})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "model"


def test_models_list_image_variants(gateway: Gateway) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)
    client.chat.completions.create(model="gemini-3-flash", messages=[{"role": "user",
                                                                     "content": "hi"}])  # fmt: skip
    names = {m.id for m in client.models.list()}  # the quota fetched after the first request
    for suffix in ("", "-2k", "-4k-16x9", "-9x16", "-2k-21x9"):
        assert f"{IMAGE_MODEL}{suffix}" in names
    assert client.models.retrieve(f"{IMAGE_MODEL}-4k-16x9").id == f"{IMAGE_MODEL}-4k-16x9"


@pytest.fixture
def warming(tmp_path: Path) -> Iterator[tuple[FakeGoogle, Gateway]]:
    with FakeGoogleThread() as fake:
        sections: dict[str, dict[str, object]] = {
            "warmup": {"enabled": True, "models": ["gemini-3-flash"], "interval_minutes": 0.02}
        }
        gateway = Gateway.start(fake, tmp_path / "agm", accounts=2, sections=sections)
        try:
            yield fake, gateway
        finally:
            gateway.stop()


def test_scheduled_warmup_wakes_each_idle_account(warming: tuple[FakeGoogle, Gateway]) -> None:
    fake, gateway = warming
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        warmed = {c.email for c in fake.calls("streamGenerateContent")}
        if warmed == set(gateway.emails):
            break
        time.sleep(0.2)
    assert warmed == set(gateway.emails)
    for call in fake.calls("streamGenerateContent"):
        assert call.body["model"] == "gemini-3-flash"
        assert call.body["request"]["contents"][0]["parts"][0]["text"] == "Say hi"


def test_warming_an_image_model_asks_for_text_only(gateway: Gateway, fake: FakeGoogle) -> None:
    for email in gateway.emails:  # the quota test may have left one cooling for this model
        answer = post(gateway, "/internal/warmup", {"email": email, "model": IMAGE_MODEL})
        if answer.status_code == 200:
            break
    assert answer.status_code == 200, answer.text
    call = fake.calls("streamGenerateContent")[-1]
    assert call.body["requestType"] == "image_gen"
    assert call.body["request"]["generationConfig"]["responseModalities"] == ["TEXT"]
