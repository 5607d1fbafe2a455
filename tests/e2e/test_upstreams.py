"""Any protocol to any upstream, end to end: `agm serve` with three API-key upstreams played by
the keyed fake (an openai-kind, a gemini-kind and an anthropic-kind), driven by the real openai
SDK, Codex CLI (Responses API in, chat completions out) and google-genai. Codex runs only in the
loopback-only namespace (tests.isolated).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tests.e2e.gateway import API_KEY, Gateway
from tests.e2e.test_codex_cli import _completed, codex
from tests.fakes.cloudcode import FakeGoogle
from tests.fakes.keyed import FakeKeyed, KeyedThread
from tests.fakes.keyed_render import call_tool, say

KEY = "up-e2e-key"
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}


@pytest.fixture(scope="module")
def keyed() -> Iterator[FakeKeyed]:
    with KeyedThread(keys={KEY}) as fake:
        yield fake


@pytest.fixture(autouse=True)
def _fresh_keyed(keyed: FakeKeyed) -> None:
    keyed.clear()


@pytest.fixture(scope="module")
def gateway(fake: FakeGoogle, keyed: FakeKeyed, tmp_path_factory) -> Iterator[Gateway]:
    upstreams = [
        {"name": "oa", "kind": "openai", "base_url": keyed.url("/oa/v1"), "api_keys": [KEY],
         "models": ["gpt-4o", "gemini-3-flash"]},  # Codex's model name in its tests
        {"name": "gm", "kind": "gemini", "base_url": keyed.url("/gm"), "api_keys": [KEY],
         "models": ["gemini-2.5-*"]},
        {"name": "an", "kind": "anthropic", "base_url": keyed.url("/an"), "api_keys": [KEY],
         "models": ["claude-upstream-*"]},
    ]
    gateway = Gateway.start(fake, Path(tmp_path_factory.mktemp("up")), accounts=1,
                            sections={"upstreams": upstreams})
    yield gateway
    gateway.stop()


@pytest.fixture
def client(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)


def test_openai_sdk_text_and_stream(client: openai.OpenAI, keyed: FakeKeyed,
                                    fake: FakeGoogle) -> None:
    keyed.script(say("Plain answer."), say("Streamed answer."))
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert raw.headers["x-mapped-model"] == "oa/gpt-4o" and raw.headers["x-account-email"] == "oa"
    done = raw.parse()
    assert done.choices[0].message.content == "Plain answer."
    assert done.usage is not None and done.usage.prompt_tokens > 0
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "Streamed answer.")
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 7
    assert not fake.calls("streamGenerateContent")
    assert [c.body["stream_options"] for c in keyed.calls("openai")] == [
        {"include_usage": True}] * 2


def test_openai_sdk_tool_round_trip(client: openai.OpenAI, keyed: FakeKeyed) -> None:
    keyed.script(call_tool("get_weather", {"city": "Paris"}), say("Sunny in Paris."))
    messages: list = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER])
    assert first.choices[0].finish_reason == "tool_calls"
    [call] = first.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    messages += [first.choices[0].message,
                 {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    final = client.chat.completions.create(model="gpt-4o", messages=messages, tools=[WEATHER])
    assert final.choices[0].message.content == "Sunny in Paris."
    sent = keyed.calls("openai")[1].body["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call.id
    assert sent[2] == {"role": "tool", "tool_call_id": call.id, "content": "sunny"}


def test_openai_sdk_reaches_an_anthropic_upstream(client: openai.OpenAI,
                                                  keyed: FakeKeyed) -> None:
    keyed.script(call_tool("get_weather", {"city": "Rome"}, thinking="Rome, then."),
                 say("Rainy in Rome."))
    messages: list = [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "Weather in Rome?"}]
    first = client.chat.completions.create(model="claude-upstream-1", messages=messages,
                                           tools=[WEATHER])
    [call] = first.choices[0].message.tool_calls or []
    messages += [first.choices[0].message,
                 {"role": "tool", "tool_call_id": call.id, "content": "rainy"}]
    with client.chat.completions.stream(model="claude-upstream-1", messages=messages,
                                        tools=[WEATHER]) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "Rainy in Rome."
    first_sent, second_sent = (c.body for c in keyed.calls("anthropic"))
    assert first_sent["system"] == [{"type": "text", "text": "Be brief."}]
    assert first_sent["tools"][0]["name"] == "get_weather"
    assert second_sent["messages"][1]["content"][-1]["type"] == "tool_use"
    assert second_sent["messages"][2]["content"][0]["tool_use_id"] == call.id


def test_anthropic_sdk_reaches_an_openai_upstream(gateway: Gateway, keyed: FakeKeyed) -> None:
    keyed.script(say("From an OpenAI-compatible server."))
    client = anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)
    message = client.messages.create(model="gpt-4o", max_tokens=100,
                                     messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].text == "From an OpenAI-compatible server."


def test_google_genai_through_a_gemini_upstream(gateway: Gateway, keyed: FakeKeyed) -> None:
    client = genai.Client(api_key=API_KEY,
                          http_options=types.HttpOptions(base_url=gateway.url))
    keyed.script(say("Blue."), call_tool("get_weather", {"city": "Oslo"}), say("Cold in Oslo."))
    assert client.models.generate_content(model="gemini-2.5-pro", contents="sky?").text == "Blue."
    [first] = keyed.calls("gemini")
    assert first.path == "/gm/v1beta/models/gemini-2.5-pro:streamGenerateContent"
    assert first.headers["x-goog-api-key"] == KEY
    weather = types.FunctionDeclaration(
        name="get_weather", parameters=types.Schema(
            type=types.Type.OBJECT, properties={"city": types.Schema(type=types.Type.STRING)}))
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[weather])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    chat = client.chats.create(model="gemini-2.5-pro", config=config)
    [call] = chat.send_message("Weather in Oslo?").function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Oslo"})
    reply = types.Part.from_function_response(name=call.name, response={"output": "cold"})
    reply.function_response.id = call.id
    assert chat.send_message(reply).text == "Cold in Oslo."
    contents = keyed.calls("gemini")[-1].body["contents"]
    assert contents[1]["parts"][0]["thoughtSignature"] in keyed.signatures
    assert contents[2]["parts"][0]["functionResponse"]["name"] == "get_weather"
    assert client.models.count_tokens(model="gemini-2.5-pro", contents="hi").total_tokens


def test_codex_cli_through_an_openai_upstream(gateway: Gateway, keyed: FakeKeyed,
                                              tmp_path: Path) -> None:
    keyed.script(call_tool("exec_command", {"cmd": "echo hello-from-tool"}),
                 say("The command printed hello-from-tool."))
    events = codex(gateway, tmp_path, "run echo hello-from-tool")
    [run] = _completed(events, "command_execution")
    assert "hello-from-tool" in run["aggregated_output"]
    [message] = _completed(events, "agent_message")
    assert message["text"] == "The command printed hello-from-tool."
    first, second = keyed.calls("openai")
    assert first.body["model"] == "gemini-3-flash"
    assert any(t["function"]["name"] == "exec_command" for t in first.body["tools"])
    tool_reply = second.body["messages"][-1]
    assert tool_reply["role"] == "tool" and "hello-from-tool" in tool_reply["content"]
