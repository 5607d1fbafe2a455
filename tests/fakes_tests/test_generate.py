"""Generation: SSE framing, unary envelope, default answers, validation."""

from __future__ import annotations

import json
import re

import pytest

from tests.fakes_tests.helpers import Client, envelope, events

TRACE = re.compile(r"^[0-9a-f]{16}$")


async def test_sse_framing_is_exact(client: Client) -> None:
    body = {**envelope("gemini-2.5-flash"), "project": "fake-project-1"}
    status, headers, raw = await client.call("streamGenerateContent", body, query="?alt=sse")
    assert (
        status == 200
        and headers["Content-Type"] == "text/event-stream"
        and headers["Server"] == "ESF"
    )
    trace = headers["x-cloudaicompanion-trace-id"]
    assert TRACE.match(trace)
    frames = raw.split(b"\n\n")
    assert frames[-1] == b"" and all(
        re.fullmatch(rb"data: \{[^\n]*\}", frame) for frame in frames[:-1]
    )
    assert b"[DONE]" not in raw and b"event:" not in raw and b"id:" not in raw
    chunks = [json.loads(frame[6:]) for frame in frames[:-1]]
    assert len(chunks) >= 2
    texts = [c["response"]["candidates"][0]["content"]["parts"][0]["text"] for c in chunks]
    assert "".join(texts) == "Hello from gemini-2.5-flash."
    assert {c["traceId"] for c in chunks} == {trace}
    assert len({(c["response"]["responseId"], c["response"]["modelVersion"]) for c in chunks}) == 1
    assert [("finishReason" in c["response"]["candidates"][0]) for c in chunks] == [False] * (
        len(chunks) - 1
    ) + [True]
    usage = chunks[-1]["response"]["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]
    assert len(chunks[0]["response"]["responseId"]) == 22


async def test_gemini3_text_answer_ends_with_signature_part(client: Client) -> None:
    _, raw = await client.stream(envelope("gemini-3-flash"))
    final = events(raw)[-1]["response"]["candidates"][0]
    [part] = final["content"]["parts"]
    assert (
        part["text"] == ""
        and len(part["thoughtSignature"]) > 50
        and final["finishReason"] == "STOP"
    )


async def test_unary_envelope(client: Client) -> None:
    body = envelope("claude-sonnet-4-6")
    status, headers, raw = await client.call("generateContent", body)
    assert status == 200 and headers["Content-Type"] == "application/json; charset=UTF-8"
    data = json.loads(raw)
    assert (
        set(data) == {"response", "traceId"}
        and data["traceId"] == headers["x-cloudaicompanion-trace-id"]
    )
    response = data["response"]
    assert response["candidates"][0]["content"] == {
        "role": "model",
        "parts": [{"text": "Hello from claude-sonnet-4-6."}],
    }
    assert (
        response["responseId"].startswith("msg_vrtx_")
        and response["modelVersion"] == "claude-sonnet-4-6"
    )


async def test_stream_without_alt_sse_is_a_json_array(client: Client) -> None:
    _, headers, raw = await client.call("streamGenerateContent", envelope())
    assert headers["Content-Type"].startswith("application/json") and len(json.loads(raw)) >= 2


async def test_thoughts_come_first_when_requested(client: Client) -> None:
    config = {"thinkingConfig": {"include_thoughts": True, "thinking_budget": 1024}}
    _, raw = await client.stream(envelope("gemini-2.5-flash", generation_config=config))
    parts = [p for e in events(raw) for p in e["response"]["candidates"][0]["content"]["parts"]]
    assert parts[0]["thought"] is True and not parts[-1].get("thought")
    assert "thoughtsTokenCount" in events(raw)[-1]["response"]["usageMetadata"]


async def test_default_json_answer_satisfies_schema(client: Client) -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 3},
            "tags": {"type": "array", "items": {"type": "string"}},
            "kind": {"enum": ["a", "b"]},
            "ok": {"type": "BOOLEAN"},
            "when": {"type": "string", "format": "date"},
        },
    }
    config = {"responseMimeType": "application/json", "responseJsonSchema": schema}
    _, _, raw = await client.call("generateContent", envelope(generationConfig=config))
    answer = json.loads(json.loads(raw)["response"]["candidates"][0]["content"]["parts"][0]["text"])
    assert answer == {
        "name": "x",
        "age": 3,
        "tags": ["x"],
        "kind": "a",
        "ok": True,
        "when": "2026-01-01",
    }


async def test_image_model_default_answer_has_inline_data(client: Client) -> None:
    _, _, raw = await client.call("generateContent", envelope("gemini-3.1-flash-image"))
    parts = json.loads(raw)["response"]["candidates"][0]["content"]["parts"]
    assert any(p.get("inlineData", {}).get("mimeType") == "image/png" for p in parts)


async def test_snake_case_fields_are_accepted(client: Client) -> None:
    body = {
        "model": "gemini-3-flash",
        "user_prompt_id": "p1",
        "enabled_credit_types": ["GOOGLE_ONE_AI"],
        "request": {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"text": "hi"},
                        {"inline_data": {"mime_type": "image/png", "data": "AA=="}},
                    ],
                }
            ],
            "system_instruction": {"parts": [{"text": "be brief"}]},
            "session_id": "-1",
            "tool_config": {"functionCallingConfig": {"mode": "VALIDATED"}},
            "toolConfig": {},
            "tools": [
                {
                    "function_declarations": [
                        {
                            "name": "ls",
                            "parameters": {
                                "type": "object",
                                "properties": {"const": {"type": "string"}},
                            },
                        }
                    ]
                }
            ],
        },
    }
    assert (await client.call("generateContent", body))[0] == 200


TOOL = {
    "functionDeclarations": [
        {"name": "ls", "parameters": {"type": "object", "properties": {"d": {"type": "string"}}}}
    ]
}


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda b: b.update(messages=[]), 'Unknown name "messages"'),
        (lambda b: b["request"].update(max_tokens=5), "Unknown name \"max_tokens\" at 'request'"),
        (lambda b: b.pop("request"), "invalid argument"),
        (lambda b: b.pop("model"), "invalid argument"),
        (lambda b: b["request"].update(contents=[]), "contents is not specified"),
        (lambda b: b["request"].update(systemInstruction="be brief"), "system_instruction"),
        (lambda b: b["request"]["contents"][0].update(role="assistant"), "valid role"),
        (lambda b: b["request"]["contents"][0].update(parts=[{}]), "required oneof field 'data'"),
        (
            lambda b: b["request"]["contents"][0].update(parts=[{"thought": True}]),
            "required oneof field 'data'",
        ),
        (
            lambda b: b["request"].update(
                tools=[{"functionDeclarations": [{"name": "1bad name"}]}]
            ),
            "Invalid function name",
        ),
        (
            lambda b: b["request"].update(
                tools=[{"functionDeclarations": [{"name": "f", "parameters": {"$schema": "x"}}]}]
            ),
            '"$schema"',
        ),
        (
            lambda b: b["request"].update(
                tools=[
                    {
                        "functionDeclarations": [
                            {"name": "f", "parameters": {"properties": {"a": {"const": 1}}}}
                        ]
                    }
                ]
            ),
            '"const"',
        ),
        (
            lambda b: b["request"].update(generationConfig={"maxOutputTokens": 131072}),
            "maxOutputTokens value of 131072",
        ),
        (
            lambda b: b["request"].update(
                generationConfig={"maxOutputTokens": 100, "thinkingConfig": {"thinkingBudget": 100}}
            ),
            "thinking budget",
        ),
        (
            lambda b: b["request"].update(
                generationConfig={"thinkingConfig": {"thinkingLevel": "ultra"}}
            ),
            "Thinking level",
        ),
    ],
)
async def test_invalid_envelopes_are_400(client: Client, mutate, needle: str) -> None:
    body = envelope(tools=[TOOL])
    mutate(body)
    status, data = await client.json("generateContent", body)
    assert (
        status == 400
        and data["error"]["status"] == "INVALID_ARGUMENT"
        and needle in data["error"]["message"]
    )


async def test_claude_specific_rules(client: Client) -> None:
    empty_text = envelope("claude-sonnet-4-6", {"role": "user", "parts": [{"text": ""}]})
    status, data = await client.json("generateContent", empty_text)
    assert (
        status == 400
        and "text content blocks must be non-empty"
        in json.loads(data["error"]["message"])["error"]["message"]
    )
    call = {
        "role": "model",
        "parts": [{"functionCall": {"name": "ls", "args": {}, "id": "toolu_1"}}],
    }
    wrong = {
        "role": "user",
        "parts": [{"functionResponse": {"name": "ls", "id": "toolu_2", "response": {}}}],
    }
    status, data = await client.json(
        "generateContent",
        envelope("claude-sonnet-4-6", {"role": "user", "parts": [{"text": "go"}]}, call, wrong),
    )
    assert status == 400 and "`tool_result` block" in data["error"]["message"]
    small_budget = {"maxOutputTokens": 8000, "thinkingConfig": {"thinkingBudget": 512}}
    assert (
        await client.call(
            "generateContent", envelope("claude-opus-4-6-thinking", generationConfig=small_budget)
        )
    )[0] == 400


async def test_unknown_model_is_404_without_details(client: Client) -> None:
    status, data = await client.json("generateContent", envelope("gemini-9-ultra"))
    assert (status, data) == (
        404,
        {
            "error": {
                "code": 404,
                "message": "Requested entity was not found.",
                "status": "NOT_FOUND",
            }
        },
    )


async def test_stream_errors_are_plain_json_with_event_stream_type(client: Client) -> None:
    status, headers, raw = await client.call(
        "streamGenerateContent", envelope("nope"), query="?alt=sse"
    )
    assert status == 404 and headers["Content-Type"] == "text/event-stream"
    assert raw.startswith(b'{\n  "error": {\n    "code": 404,')


async def test_foreign_project_is_403(client: Client) -> None:
    body = envelope()
    body["project"] = "not-mine"
    assert (await client.call("generateContent", body))[0] == 403


async def test_chunked_request_body_and_dollar_alt(client: Client) -> None:
    async def body():
        yield json.dumps(envelope()).encode()

    url = client.fake.url("sandbox") + "/v1internal:streamGenerateContent?$alt=sse"
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"}
    async with client.session.post(url, data=body(), headers=headers) as response:
        assert response.status == 200 and (await response.read()).startswith(b"data: {")
    assert client.fake.received[-1].headers["Transfer-Encoding"] == "chunked"
