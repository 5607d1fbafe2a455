"""Legacy Completions codec: the prompt forms it takes and refuses, echo, and its stream."""

from __future__ import annotations

import json
from typing import Any

import pytest

from antigravity_gateway.core.events import Finish, PartEnd, PartStart, Start, TextDelta
from antigravity_gateway.core.messages import ChatResponse, Media, Text
from antigravity_gateway.errors import UpstreamError
from antigravity_gateway.protocols.openai_chat import completions

from .test_openai_chat_inbound import assert_invalid


def body(**fields: Any) -> dict[str, Any]:
    return {"model": "gpt-3.5-turbo-instruct", "prompt": "Once", **fields}


@pytest.mark.parametrize(
    ("request_body", "path", "message"),
    [
        ([], "", "must be a JSON object"),
        ({"prompt": "x"}, "model", "is required"),
        (body(prompt=None), "prompt", "is required"),
        (body(prompt=""), "prompt", "must not be empty"),
        (body(prompt=3), "prompt", "must be a string"),
        (body(prompt=[1, 2, 3]), "prompt", "batched prompts"),
        (body(prompt=[[1, 2]]), "prompt", "token-array"),
        (body(prompt=["a", "b"]), "prompt", "batched prompts"),
        (body(n=2), "n", "n > 1"),
        (body(best_of=3), "best_of", "best_of > 1"),
        (body(echo="yes"), "echo", "must be a boolean"),
        (body(max_tokens=0), "max_tokens", "must be >= 1"),
        (body(stop=[1]), "stop[0]", "must be a string"),
        (body(stream_options=1), "stream_options", "must be an object"),
    ],
)
def test_bad_input_names_its_path(request_body: Any, path: str, message: str) -> None:
    assert_invalid(completions.decode_request, request_body, path, message)


def test_prompt_forms_and_echo() -> None:
    req = completions.decode_request(body(prompt=["Once upon"], stop="\n", user="u", max_tokens=9))
    assert req.messages[0].parts == (Text(text="Once upon"),)
    assert req.stop == ("\n",) and req.session_key == "u" and req.max_tokens == 9
    assert completions.echo_of(body(prompt=["Once upon"], echo=True)) == "Once upon"
    assert completions.echo_of(body()) == ""


def test_response_shows_text_and_images_not_thinking() -> None:
    resp = ChatResponse(
        id="r",
        model="m",
        parts=(Text(text="a"), Media(mime="image/png", url="https://h/i.png")),
        finish_reason="content_filter",
    )
    out = completions.encode_response(resp, model="m", created=1, echo="> ")
    assert out["choices"][0]["text"] == "> a![image](https://h/i.png)"
    assert out["choices"][0]["finish_reason"] == "content_filter"


def test_stream_and_failure() -> None:
    encoder = completions.StreamEncoder(id="c", model="m", created=1, include_usage=False)
    events = [
        Start(id="u", model="m"),
        PartStart(index=0, kind="text"),
        TextDelta(index=0, text="hi"),
        PartEnd(index=0),
        Finish(reason="stop"),
    ]
    raw = b"".join(f for ev in events for f in encoder.feed(ev)).decode()
    chunks = [line[6:] for line in raw.splitlines() if line.startswith("data: ")]
    assert chunks[-1] == "[DONE]"
    assert [json.loads(c)["choices"][0]["finish_reason"] for c in chunks[:-1]] == [None, "stop"]
    assert encoder.fail(UpstreamError(500, "x")) == []
    failing = completions.StreamEncoder(id="c", model="m", created=1, include_usage=True)
    error, done = failing.fail(UpstreamError(503, "busy"))
    assert json.loads(error.decode()[6:])["error"]["type"] == "server_error"
    assert done == b"data: [DONE]\n\n"
