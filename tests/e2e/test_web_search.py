"""Web search grounding through all three protocols, with the real SDKs against `agm serve`.

The simulator answers a request carrying a googleSearch tool with Google's groundingMetadata
(tests/fakes/grounding.py); each client must get its sources in its own format.
"""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import text, tool_call
from tests.fakes.grounding import SOURCES

ANSWER = "Rust 1.80 was released in July 2024."
URLS = [uri for uri, _ in SOURCES]


def searched(fake: Any) -> dict[str, Any]:
    [call] = fake.calls("streamGenerateContent")
    return dict(call.body)


def assert_search_upstream(body: dict[str, Any]) -> None:
    assert body["requestType"] == "web_search"
    assert {"googleSearch": {}} in body["request"]["tools"]


@pytest.fixture
def openai_client(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)


def test_online_suffix_gives_url_citations(openai_client: openai.OpenAI, fake: Any) -> None:
    fake.script(text(ANSWER))
    done = openai_client.chat.completions.create(
        model="gemini-3-flash-online",
        messages=[{"role": "user", "content": "When was Rust 1.80 released?"}],
    )
    message = done.choices[0].message
    assert message.content == ANSWER
    annotations = message.annotations or []
    assert [a.url_citation.url for a in annotations] == URLS
    first = annotations[0].url_citation
    assert (first.start_index, first.end_index) == (0, len(ANSWER))
    assert first.title == SOURCES[0][1]
    body = searched(fake)
    assert_search_upstream(body)
    assert body["model"] == "gemini-3-flash"


def test_web_search_options_in_a_stream(openai_client: openai.OpenAI, fake: Any) -> None:
    fake.script(text(ANSWER))
    stream = openai_client.chat.completions.create(
        model="gemini-3-flash",
        messages=[{"role": "user", "content": "Rust 1.80?"}],
        web_search_options={},
        stream=True,
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    found = [
        a["url_citation"]["url"]
        for c in chunks
        if c.choices
        for a in (c.choices[0].delta.model_extra or {}).get("annotations") or []
    ]
    assert content == ANSWER and found == URLS
    assert_search_upstream(searched(fake))


def test_responses_web_search_tool(openai_client: openai.OpenAI, fake: Any) -> None:
    fake.script(text(ANSWER))
    done = openai_client.responses.create(
        model="gemini-3-flash", input="Rust 1.80?", tools=[{"type": "web_search"}]
    )
    kinds = [item.type for item in done.output]
    assert kinds == ["message", "web_search_call"]
    message = done.output[0]
    assert message.type == "message"
    annotations = message.content[0].annotations  # type: ignore[union-attr]
    assert [a.url for a in annotations] == URLS  # type: ignore[union-attr]
    assert done.output_text == ANSWER
    assert_search_upstream(searched(fake))


def test_search_tool_beside_functions_keeps_the_functions(
    openai_client: openai.OpenAI, fake: Any
) -> None:
    """v1internal refuses googleSearch next to function declarations: the functions win."""
    fake.script(tool_call("get_time", {}))
    function = {"type": "function", "function": {"name": "get_time", "parameters": {}}}
    done = openai_client.chat.completions.create(
        model="gemini-3-flash-online",
        messages=[{"role": "user", "content": "time?"}],
        tools=[function, {"type": "web_search"}],  # type: ignore[list-item]
    )
    assert done.choices[0].message.tool_calls
    body = searched(fake)
    assert body["requestType"] == "agent"
    [only] = body["request"]["tools"]
    assert [d["name"] for d in only["functionDeclarations"]] == ["get_time"]
    assert "googleSearch" not in only


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_web_search_tool(gateway: Gateway, fake: Any, stream: bool) -> None:
    client = anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)
    fake.script(text(ANSWER))
    tools: Any = [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]
    ask = {"model": "claude-sonnet-4-6", "max_tokens": 500, "tools": tools,
           "messages": [{"role": "user", "content": "When was Rust 1.80 released?"}]}  # fmt: skip
    if stream:
        with client.messages.stream(**ask) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**ask)
    kinds = [block.type for block in message.content]
    assert "server_tool_use" in kinds and "web_search_tool_result" in kinds
    result = next(b for b in message.content if b.type == "web_search_tool_result")
    use = next(b for b in message.content if b.type == "server_tool_use")
    assert result.tool_use_id == use.id  # type: ignore[union-attr]
    assert [r.url for r in result.content] == URLS  # type: ignore[union-attr]
    texts = [b for b in message.content if b.type == "text"]
    assert "".join(b.text for b in texts) == ANSWER
    if not stream:  # a stream learns the sources after its text: no citations there
        citations = [c for b in texts for c in b.citations or []]
        assert [c.url for c in citations] == URLS and citations[0].cited_text == ANSWER
    assert message.usage.server_tool_use is not None
    assert message.usage.server_tool_use.web_search_requests == 1
    assert_search_upstream(searched(fake))


@pytest.mark.parametrize("stream", [False, True])
def test_genai_google_search(gateway: Gateway, fake: Any, stream: bool) -> None:
    options = types.HttpOptions(base_url=gateway.url, api_version="v1beta")
    client = genai.Client(api_key=API_KEY, http_options=options)
    fake.script(text(ANSWER))
    config = types.GenerateContentConfig(tools=[types.Tool(google_search=types.GoogleSearch())])
    ask = {"model": "gemini-3-flash", "contents": "When was Rust 1.80 released?",
           "config": config}  # fmt: skip
    if stream:
        chunks = list(client.models.generate_content_stream(**ask))
        last = chunks[-1]
        answer = "".join(c.text or "" for c in chunks)
    else:
        last = client.models.generate_content(**ask)
        answer = last.text or ""
    assert answer == ANSWER
    assert last.candidates is not None
    meta = last.candidates[0].grounding_metadata
    assert meta is not None and meta.grounding_chunks is not None
    assert [c.web.uri for c in meta.grounding_chunks if c.web] == URLS
    assert meta.web_search_queries == ["When was Rust 1.80 released?"]
    assert meta.grounding_supports and meta.grounding_supports[0].segment
    assert meta.search_entry_point is not None  # passed through unchanged
    assert_search_upstream(searched(fake))


def test_responses_stream_ends_with_the_search_item(
    openai_client: openai.OpenAI, fake: Any
) -> None:
    fake.script(text(ANSWER))
    stream = openai_client.responses.create(
        model="gemini-3-flash", input="Rust 1.80?", tools=[{"type": "web_search"}], stream=True
    )
    events = list(stream)
    added = [e.item.type for e in events if e.type == "response.output_item.added"]
    assert added == ["message", "web_search_call"]
    completed = events[-1]
    assert completed.type == "response.completed"
    final = completed.response  # type: ignore[union-attr]
    assert [item.type for item in final.output] == ["message", "web_search_call"]
    annotations = final.output[0].content[0].annotations
    assert [a.url for a in annotations] == URLS
