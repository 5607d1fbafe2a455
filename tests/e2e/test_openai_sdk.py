"""The real openai SDK against `agm serve`, with the simulator as Google."""

from __future__ import annotations

import base64
import json
from typing import Any

import openai
import pytest
from pydantic import BaseModel

from tests.e2e.gateway import API_KEY, PNG, Gateway
from tests.fakes import text, thinking, tool_call
from tests.fakes.cloudcode import FakeGoogle

MODEL = "gemini-3-flash"


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
    for n in range(40):  # distinct conversations: one conversation sticks to one account
        raw = client.chat.completions.with_raw_response.create(
            model="gemini-3-flash", messages=[{"role": "user", "content": f"hi {n}"}]
        )
        seen.add(raw.headers["x-account-email"])
        assert raw.headers["x-mapped-model"] == "gemini-3-flash"
        assert raw.headers["x-request-id"]
        assert raw.parse().choices[0].message.content
        if seen == set(gateway.emails):
            break
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


# --- tools, vision, structured output, legacy completions, the Responses API -------------
class Weather(BaseModel):
    city: str


class Person(BaseModel):
    name: str
    age: int


WEATHER = openai.pydantic_function_tool(Weather, name="get_weather")




def _upstream(fake: FakeGoogle, n: int = -1) -> dict[str, Any]:
    request: dict[str, Any] = fake.calls("streamGenerateContent")[n].body["request"]
    return request


def test_chat_tool_round_trip(client: openai.OpenAI, fake: FakeGoogle) -> None:
    fake.script(
        [tool_call("get_weather", {"city": "Paris"}), tool_call("get_weather", {"city": "Rome"})],
        text("Paris 18C, Rome 25C."),
    )
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris and Rome?"}]
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [json.loads(c.function.arguments)["city"] for c in calls] == ["Paris", "Rome"]
    messages.append(choice.message)
    messages += [{"role": "tool", "tool_call_id": c.id, "content": "ok"} for c in calls]
    final = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER])
    assert final.choices[0].message.content == "Paris 18C, Rome 25C."
    results = _upstream(fake)["contents"][-1]["parts"]
    assert [r["functionResponse"]["id"] for r in results] == [c.id for c in calls]


def test_chat_stream_helper_tool_round_trip(client: openai.OpenAI, fake: FakeGoogle) -> None:
    fake.script(
        [thinking("Paris it is."), tool_call("get_weather", {"city": "Paris"})], text("Sunny.")
    )
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    with client.chat.completions.stream(
        model=MODEL, messages=messages, tools=[WEATHER], reasoning_effort="low"
    ) as stream:
        final = stream.get_final_completion()
    message = final.choices[0].message
    [call] = message.tool_calls or []
    assert call.function.parsed_arguments == Weather(city="Paris")
    assert getattr(message, "reasoning_content", None) == "Paris it is."
    messages += [message, {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    with client.chat.completions.stream(model=MODEL, messages=messages, tools=[WEATHER]) as stream:
        assert stream.get_final_completion().choices[0].message.content == "Sunny."


def test_image_input(client: openai.OpenAI, fake: FakeGoogle, image_url: str) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    content: list[Any] = [
        {"type": "text", "text": "Describe these."},
        {"type": "image_url", "image_url": {"url": data_url}},
        {"type": "image_url", "image_url": {"url": image_url, "detail": "low"}},
    ]
    done = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": content}]
    )
    assert done.choices[0].message.content
    parts = _upstream(fake)["contents"][0]["parts"]
    inline = [p["inlineData"] for p in parts if "inlineData" in p]
    assert inline == [{"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}] * 2
    missing = {"type": "image_url", "image_url": {"url": image_url.replace("pixel", "missing")}}
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": [content[0], missing]}]
        )
    assert "no usable answer" in err.value.message


def test_json_schema_output_parsed_by_the_sdk(client: openai.OpenAI, fake: FakeGoogle) -> None:
    done = client.chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "A person."}], response_format=Person
    )
    assert isinstance(done.choices[0].message.parsed, Person)
    config = _upstream(fake)["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseJsonSchema"]["properties"]) == {"name", "age"}


def test_legacy_completions(client: openai.OpenAI, fake: FakeGoogle) -> None:
    fake.script(text(" a test."), text(" streamed.", chunks=2))
    done = client.completions.create(model=MODEL, prompt="This is", max_tokens=20)
    assert done.choices[0].text == " a test." and done.object == "text_completion"
    chunks = list(client.completions.create(model=MODEL, prompt=["Go"], stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == " streamed."


def test_model_retrieve(client: openai.OpenAI) -> None:
    assert client.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_responses_create_function_call_round_trip(client: openai.OpenAI, fake: FakeGoogle) -> None:
    fake.script(tool_call("get_weather", {"city": "Paris"}), text("It is sunny in Paris."))
    tools: list[Any] = [{"type": "function", "name": "get_weather", "strict": True,
                         "parameters": Weather.model_json_schema()}]  # fmt: skip
    first = client.responses.create(
        model=MODEL, input="Weather in Paris?", tools=tools, instructions="Use tools."
    )
    [call] = [item for item in first.output if item.type == "function_call"]
    assert json.loads(call.arguments) == {"city": "Paris"}
    output = {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}
    second = client.responses.create(
        model=MODEL, previous_response_id=first.id, input=[output], tools=tools
    )
    assert second.output_text == "It is sunny in Paris."
    contents = _upstream(fake)["contents"]
    assert contents[-1]["parts"][0]["functionResponse"]["response"] == {"result": "sunny"}
    assert contents[0]["parts"][0]["text"] == "Weather in Paris?"


def test_responses_stream_helper_round_trip(client: openai.OpenAI, fake: FakeGoogle) -> None:
    fake.script(
        [thinking("Check it."), tool_call("get_weather", {"city": "Rome"})], text("Rome: 25C.")
    )
    history: list[Any] = [{"role": "user", "content": "Weather in Rome?"}]
    with client.responses.stream(
        model=MODEL, input=history, tools=[WEATHER_TOOL], store=False,
        reasoning={"summary": "auto"}, include=["reasoning.encrypted_content"],
    ) as stream:  # fmt: skip
        types = [event.type for event in stream]
        first = stream.get_final_response()
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert "response.function_call_arguments.delta" in types
    reasoning, call = first.output
    assert reasoning.type == "reasoning" and call.type == "function_call"
    history += [item.model_dump(exclude_none=True) for item in first.output]
    history.append({"type": "function_call_output", "call_id": call.call_id, "output": "25C"})
    with client.responses.stream(
        model=MODEL, input=history, tools=[WEATHER_TOOL], store=False
    ) as stream:
        final = stream.get_final_response()
    assert final.output_text == "Rome: 25C."
    model_turn = _upstream(fake)["contents"][1]["parts"]
    assert model_turn[-1]["functionCall"]["args"] == {"city": "Rome"}
    assert model_turn[-1]["thoughtSignature"]


def test_responses_parse_json_schema(client: openai.OpenAI) -> None:
    done = client.responses.parse(model=MODEL, input="A person.", text_format=Person)
    assert isinstance(done.output_parsed, Person)


WEATHER_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
