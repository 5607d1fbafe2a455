"""The real google-genai and google-generativeai SDKs against `agm serve` (simulator as Google).

google-genai on its default `/v1` and on `/v1beta`: generate, stream, countTokens, a
function-calling round trip (id and thoughtSignature preserved), model listing, errors.
google-generativeai (transport "rest"): generate, stream (a JSON array), count_tokens.
"""

from __future__ import annotations

import warnings

import pytest
from google import genai
from google.genai import errors, types

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import text, tool_call
from tests.fakes.cloudcode import FakeGoogle

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import google.generativeai as legacy

MODEL = "gemini-3-flash"
WEATHER = types.FunctionDeclaration(
    name="get_weather",
    description="The weather in a city.",
    parameters=types.Schema(
        type=types.Type.OBJECT,
        properties={"city": types.Schema(type=types.Type.STRING)},
        required=["city"],
    ),
)


@pytest.fixture(params=["v1", "v1beta"])
def client(request: pytest.FixtureRequest, gateway: Gateway) -> genai.Client:
    options = types.HttpOptions(base_url=gateway.url, api_version=request.param)
    return genai.Client(api_key=API_KEY, http_options=options)


def test_generate(client: genai.Client, fake: FakeGoogle) -> None:
    fake.script(text("The sky is blue.", chunks=3))
    config = types.GenerateContentConfig(
        system_instruction="Be brief.",
        temperature=0.2,
        max_output_tokens=100,
        stop_sequences=["END"],
        safety_settings=[
            types.SafetySetting(category="HARM_CATEGORY_HARASSMENT", threshold="BLOCK_NONE")
        ],
    )
    done = client.models.generate_content(model=MODEL, contents="What colour?", config=config)
    assert done.text == "The sky is blue."
    assert done.candidates[0].finish_reason == types.FinishReason.STOP
    assert done.usage_metadata.prompt_token_count > 0
    [call] = fake.calls("streamGenerateContent")
    request = call.body["request"]
    assert request["systemInstruction"]["parts"][0]["text"] == "Be brief."
    assert request["contents"] == [{"role": "user", "parts": [{"text": "What colour?"}]}]
    generation = request["generationConfig"]
    assert generation["temperature"] == 0.2 and generation["maxOutputTokens"] == 100
    assert generation["stopSequences"] == ["END"]
    assert request["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}
    ]


def test_stream(client: genai.Client, fake: FakeGoogle) -> None:
    fake.script(text("one two three four", chunks=4))
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="count"))
    assert "".join(c.text or "" for c in chunks) == "one two three four"
    assert len(chunks) >= 4
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.total_token_count > 0


def test_chat_stream_keeps_history(client: genai.Client, fake: FakeGoogle) -> None:
    chat = client.chats.create(model=MODEL)
    fake.script(text("first answer"), text("second answer"))
    assert "".join(c.text or "" for c in chat.send_message_stream("one")) == "first answer"
    assert "".join(c.text or "" for c in chat.send_message_stream("two")) == "second answer"
    contents = fake.calls("streamGenerateContent")[-1].body["request"]["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"][0]["text"] == "first answer"


def test_count_tokens(client: genai.Client, fake: FakeGoogle) -> None:
    counted = client.models.count_tokens(model=MODEL, contents="hello there, how are you?")
    assert counted.total_tokens and counted.total_tokens > 0
    [call] = fake.calls("countTokens")
    assert call.body["request"]["contents"][0]["parts"][0]["text"] == "hello there, how are you?"


def test_function_calling_round_trip(client: genai.Client, fake: FakeGoogle) -> None:
    fake.script(tool_call("get_weather", {"city": "Paris"}), text("It is sunny in Paris."))
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[WEATHER])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    chat = client.chats.create(model=MODEL, config=config)
    first = chat.send_message("Weather in Paris?")
    [call] = first.function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Paris"})
    assert call.id and first.candidates[0].content.parts[0].thought_signature
    reply = types.Part.from_function_response(name=call.name, response={"output": "sunny"})
    reply.function_response.id = call.id
    second = chat.send_message(reply)
    assert second.text == "It is sunny in Paris."
    calls = fake.calls("streamGenerateContent")
    assert [c.status for c in calls] == [200, 200]  # the signature was accepted on replay
    first_request, last_request = (c.body["request"] for c in calls)
    declaration = first_request["tools"][0]["functionDeclarations"][0]
    assert declaration["parameters"]["properties"]["city"]["type"] == "string"
    model_turn, result_turn = last_request["contents"][1:]
    sent = model_turn["parts"][0]
    assert sent["functionCall"]["id"] == call.id
    assert sent["thoughtSignature"] != "skip_thought_signature_validator"
    response = result_turn["parts"][0]["functionResponse"]
    assert response["id"] == call.id and "sunny" in str(response["response"])


def test_models(client: genai.Client) -> None:
    names = [m.name for m in client.models.list()]
    assert f"models/{MODEL}" in names and "models/claude-sonnet-4-6" in names
    model = client.models.get(model=MODEL)
    assert model.name == f"models/{MODEL}"
    assert model.input_token_limit and model.output_token_limit
    assert "generateContent" in (model.supported_actions or [])


def test_errors_in_gemini_shape(client: genai.Client, gateway: Gateway) -> None:
    with pytest.raises(errors.ClientError) as err:
        client.models.generate_content(model="no-such-model", contents="hi")
    assert err.value.code == 404 and err.value.status == "NOT_FOUND"
    assert "no-such-model" in str(err.value.message)
    options = types.HttpOptions(base_url=gateway.url)
    wrong = genai.Client(api_key="sk-wrong-key-123", http_options=options)
    with pytest.raises(errors.ClientError) as err:
        wrong.models.generate_content(model=MODEL, contents="hi")
    assert err.value.code == 401 and err.value.status == "UNAUTHENTICATED"


@pytest.fixture
def legacy_model(gateway: Gateway) -> legacy.GenerativeModel:
    legacy.configure(
        api_key=API_KEY, transport="rest", client_options={"api_endpoint": gateway.url}
    )
    return legacy.GenerativeModel(
        MODEL,
        system_instruction="Be brief.",
        safety_settings={"HARASSMENT": "BLOCK_NONE"},
        generation_config={"temperature": 0.3, "max_output_tokens": 200},
    )


def test_legacy_generate(legacy_model: legacy.GenerativeModel, fake: FakeGoogle) -> None:
    fake.script(text("Legacy hello."))
    assert legacy_model.generate_content("hi").text == "Legacy hello."
    request = fake.calls("streamGenerateContent")[0].body["request"]
    assert request["generationConfig"]["maxOutputTokens"] == 200
    # the SDK sends enums as numbers; the upstream gets their names
    assert request["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}
    ]


def test_legacy_stream_is_a_json_array(
    legacy_model: legacy.GenerativeModel, fake: FakeGoogle
) -> None:
    fake.script(text("one two three four", chunks=4))
    chunks = list(legacy_model.generate_content("count", stream=True))
    assert "".join(c.text for c in chunks) == "one two three four"
    assert chunks[-1].candidates[0].finish_reason == 1  # STOP


def test_legacy_count_tokens(legacy_model: legacy.GenerativeModel, fake: FakeGoogle) -> None:
    counted = legacy_model.count_tokens("hello there, how are you?")
    assert counted.total_tokens > 0
    [call] = fake.calls("countTokens")
    contents = call.body["request"]["contents"]
    assert contents[-1]["parts"][0]["text"] == "hello there, how are you?"
