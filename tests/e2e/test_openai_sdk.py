"""The real openai SDK against `agm serve`, with the simulator as Google."""

from __future__ import annotations

import openai
import pytest

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import text
from tests.fakes.cloudcode import FakeGoogle


@pytest.fixture
def client(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)


def test_text_non_stream(client: openai.OpenAI, fake: FakeGoogle) -> None:
    fake.script(text("The sky is blue.", chunks=3))
    done = client.chat.completions.create(
        model="gemini-3-flash",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What colour is the sky?"},
        ],
        temperature=0.2,
        max_tokens=100,
        stop=["END"],
    )
    assert done.choices[0].message.content == "The sky is blue."
    assert done.choices[0].finish_reason == "stop"
    assert done.usage is not None and done.usage.prompt_tokens > 0
    [call] = fake.calls("streamGenerateContent")
    body = call.body
    assert body["model"] == "gemini-3-flash" and body["project"] and body["requestId"]
    request = body["request"]
    assert request["systemInstruction"]["parts"][0]["text"] == "Be brief."
    assert request["contents"][0]["parts"][0]["text"] == "What colour is the sky?"
    config = request["generationConfig"]
    assert config["temperature"] == 0.2 and config["maxOutputTokens"] == 100
    assert config["stopSequences"] == ["END"]


def test_text_stream(client: openai.OpenAI, fake: FakeGoogle) -> None:
    fake.script(text("one two three four", chunks=4))
    stream = client.chat.completions.create(
        model="gemini-3-flash",
        messages=[{"role": "user", "content": "count"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert content == "one two three four"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_stream_helper(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="gemini-3-flash", messages=[{"role": "user", "content": "hi"}]
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Hello from gemini-3-flash."


def test_two_accounts_both_serve(client: openai.OpenAI, gateway: Gateway, fake: FakeGoogle) -> None:
    seen = set()
    for _ in range(4):
        raw = client.chat.completions.with_raw_response.create(
            model="gemini-3-flash", messages=[{"role": "user", "content": "hi"}]
        )
        seen.add(raw.headers["x-account-email"])
        assert raw.headers["x-mapped-model"] == "gemini-3-flash"
        assert raw.headers["x-request-id"]
        assert raw.parse().choices[0].message.content
    assert seen == set(gateway.emails)
    assert {c.email for c in fake.calls("streamGenerateContent")} == set(gateway.emails)


def test_mapped_model_header(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-mapped-model"] == "gemini-3-flash"
    assert raw.parse().model == "gpt-4o"


def test_models_list(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert "gemini-3-flash" in ids and "claude-sonnet-4-6" in ids
    assert not any(i.startswith("chat_") for i in ids)


def test_errors_reach_the_sdk_in_openai_shape(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "hi"}]
        )
    assert "no-such-model" in str(err.value)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gemini-3-flash", messages=[])
    bad = openai.OpenAI(base_url=client.base_url, api_key="sk-wrong-key-123", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
