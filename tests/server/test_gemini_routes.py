"""The Gemini-native routes in-process against the simulator: URL forms, framings, countTokens,
model listings, errors in Gemini's shape, and a gateway that stays healthy after bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from antigravity_gateway.app import build_app
from tests.fakes import BrokenStream, Reply, finish, invalid_argument, text, thinking
from tests.fakes.cloudcode import FakeGoogle

from .helpers import KEY, seed_account, settings_with

GOOG = {"x-goog-api-key": KEY}
HELLO = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
GENERATE = "/v1beta/models/gemini-3-flash:generateContent"
STREAM = "/v1beta/models/gemini-3-flash:streamGenerateContent"


@pytest.fixture
async def client(fake_google: FakeGoogle, tmp_path, aiohttp_client):
    account = fake_google.add_account("a@example.com", refresh_token="rt-a")
    seed_account(
        tmp_path,
        "a@example.com",
        models=("gemini-3-flash", "claude-sonnet-4-6"),
        refresh_token="rt-a",
        access_token=fake_google.issue_token("a@example.com"),
        project=account.project,
    )
    settings = settings_with(
        proxy={"auth_mode": "strict", "max_body_bytes": 20_000, "max_wait_seconds": 0},
        upstream={
            "cloudcode_base_urls": fake_google.cloudcode_base_urls,
            "oauth_token_url": fake_google.token_url,
            "userinfo_url": fake_google.userinfo_url,
            "oauth_client_id": fake_google.options.client_id,
            "oauth_client_secret": fake_google.options.client_secret,
        },
    )
    return await aiohttp_client(build_app(settings, tmp_path))


async def _healthy(client) -> None:
    resp = await client.get("/healthz", headers=GOOG)
    assert resp.status == 200


def _sse(raw: bytes) -> list[dict[str, Any]]:
    frames = [f for f in raw.replace(b"\r\n", b"\n").split(b"\n\n") if f.strip()]
    return [json.loads(f.removeprefix(b"data: ")) for f in frames]


@pytest.mark.parametrize(
    "path",
    [
        GENERATE,
        "/v1/models/gemini-3-flash:generateContent",
        "/v1beta/models/models/gemini-3-flash:generateContent",
        "/v1/models/models/gemini-3-flash:generateContent",
        "/v1beta/models/gemini-3-flash:generateContent?%24alt=json%3Benum-encoding%3Dint",
    ],
)
async def test_generate_url_forms(client, fake_google, path) -> None:
    fake_google.script(text("Hi there.", chunks=2))
    resp = await client.post(path, headers=GOOG, json=HELLO)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    candidate = body["candidates"][0]
    [part] = candidate["content"]["parts"]
    assert part["text"] == "Hi there." and part["thoughtSignature"]  # Gemini 3 signs its answer
    assert candidate["finishReason"] == "STOP"
    assert body["usageMetadata"]["totalTokenCount"] > 0
    assert resp.headers["X-Mapped-Model"] == "gemini-3-flash"
    assert resp.headers["X-Account-Email"] == "a@example.com"
    [call] = fake_google.calls("streamGenerateContent")
    assert call.body["model"] == "gemini-3-flash"


async def test_key_in_the_query(client, fake_google) -> None:
    resp = await client.post(f"{GENERATE}?key={KEY}", json=HELLO)
    assert resp.status == 200
    resp = await client.post(f"{GENERATE}?key=sk-wrong-key-0", json=HELLO)
    assert resp.status == 401
    assert (await resp.json())["error"]["status"] == "UNAUTHENTICATED"


async def test_sse_stream(client, fake_google) -> None:
    fake_google.script(text("one two three", chunks=3))
    resp = await client.post(f"{STREAM}?alt=sse", headers=GOOG, json=HELLO)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    chunks = _sse(await resp.read())
    texts = [p.get("text", "") for c in chunks for p in c["candidates"][0]["content"]["parts"]]
    assert "".join(texts) == "one two three"
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"]["totalTokenCount"] > 0


@pytest.mark.parametrize("query", ["", "?%24alt=json%3Benum-encoding%3Dint", "?alt=json"])
async def test_json_array_stream(client, fake_google, query) -> None:
    fake_google.script(text("one two three", chunks=3))
    resp = await client.post(f"{STREAM}{query}", headers=GOOG, json=HELLO)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    chunks = json.loads(await resp.read())
    assert isinstance(chunks, list) and len(chunks) >= 3
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


async def test_a_missing_finish_reason_is_synthesised(client, fake_google) -> None:
    fake_google.script(Reply(text("no ending", chunks=2), finish(None)))
    resp = await client.post(f"{STREAM}?alt=sse", headers=GOOG, json=HELLO)
    chunks = _sse(await resp.read())
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


@pytest.mark.parametrize("query", ["?alt=sse", ""])
async def test_a_broken_upstream_stream_ends_with_an_error_element(
    client, fake_google, query
) -> None:
    fake_google.script(Reply(text("a b c d", chunks=4), BrokenStream(after_chunks=2)))
    resp = await client.post(f"{STREAM}{query}", headers=GOOG, json=HELLO)
    raw = await resp.read()
    chunks = _sse(raw) if query else json.loads(raw)
    assert chunks[-1]["error"]["code"] >= 500
    assert "finishReason" not in json.dumps(chunks)
    await _healthy(client)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1beta/models/gemini-3-flash:countTokens", HELLO),
        ("/v1/models/gemini-3-flash:countTokens", HELLO),
        ("/v1beta/models/gemini-3-flash/countTokens", HELLO),
        (
            "/v1beta/models/gemini-3-flash:countTokens",
            {"generateContentRequest": {"model": "models/gemini-3-flash", **HELLO}},
        ),
    ],
)
async def test_count_tokens(client, fake_google, path, body) -> None:
    resp = await client.post(path, headers=GOOG, json=body)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["totalTokens"] > 0
    assert resp.headers["X-Mapped-Model"] == "gemini-3-flash"
    [call] = fake_google.calls("countTokens")
    assert call.body["request"]["contents"][-1]["parts"] == [{"text": "hi"}]
    assert not fake_google.calls("streamGenerateContent")


async def test_model_listings(client) -> None:
    for path, headers in (("/v1beta/models", GOOG), ("/v1/models", GOOG)):
        body = await (await client.get(path, headers=headers)).json()
        models = {m["name"]: m for m in body["models"]}
        assert {"models/claude-sonnet-4-6", "models/gemini-3-flash"} <= set(models)
        claude = models["models/claude-sonnet-4-6"]
        assert claude["inputTokenLimit"] == 200_000 and claude["outputTokenLimit"] == 64_000
        assert "generateContent" in claude["supportedGenerationMethods"]
    openai = await (
        await client.get("/v1/models", headers={"Authorization": f"Bearer {KEY}"})
    ).json()
    assert openai["object"] == "list"
    for path in ("/v1beta/models/gemini-3-flash", "/v1/models/gemini-3-flash"):
        model = await (await client.get(path, headers=GOOG)).json()
        assert model["name"] == "models/gemini-3-flash" and model["inputTokenLimit"] > 0
    resp = await client.get("/v1beta/models/no-such-model", headers=GOOG)
    assert resp.status == 404 and (await resp.json())["error"]["status"] == "NOT_FOUND"


@pytest.mark.parametrize("include", [True, False, None])
@pytest.mark.parametrize("path", [GENERATE, f"{STREAM}?alt=sse"])
async def test_thoughts_only_when_asked(client, fake_google, include, path) -> None:
    fake_google.script([thinking("Let me see."), text("Answer.")])
    config = {} if include is None else {"thinkingConfig": {"includeThoughts": include}}
    resp = await client.post(path, headers=GOOG, json={**HELLO, "generationConfig": config})
    raw = await resp.read()
    chunks = _sse(raw) if "alt=sse" in path else [json.loads(raw)]
    parts = [p for c in chunks for p in c["candidates"][0]["content"]["parts"]]
    thoughts = "".join(p["text"] for p in parts if p.get("thought"))
    assert thoughts == ("Let me see." if include else "")
    assert "".join(p.get("text", "") for p in parts if not p.get("thought")) == "Answer."


async def test_upstream_errors_reach_the_client_in_googles_shape(client, fake_google) -> None:
    fake_google.script(invalid_argument("Bad schema.", "request.tools"))
    resp = await client.post(GENERATE, headers=GOOG, json=HELLO)
    assert resp.status == 400
    error = (await resp.json())["error"]
    assert (error["status"], error["message"]) == ("INVALID_ARGUMENT", "Bad schema.")
    assert error["details"][0]["fieldViolations"][0]["field"] == "request.tools"


def _parts(*parts: Any) -> dict[str, Any]:
    return {"contents": [{"role": "user", "parts": list(parts)}]}


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        (GENERATE, b"{not json", 400, "not valid JSON"),
        (GENERATE, b"", 400, "empty"),
        (GENERATE, b"[1]", 400, "JSON object"),
        (GENERATE, {}, 400, "contents"),
        (GENERATE, {"contents": [{"role": "bot", "parts": []}]}, 400, "contents[0].role"),
        (GENERATE, _parts({"text": 1}), 400, "contents[0].parts[0].text"),
        (GENERATE, {**HELLO, "generationConfig": {"topP": 7}}, 400, "generationConfig.topP"),
        (STREAM, {**HELLO, "tools": [{"functionDeclarations": [{}]}]}, 400, "name"),
        (GENERATE, _parts({"text": "x" * 30_000}), 413, "max_body_bytes"),
        ("/v1beta/models/gemini-3-flash:embedContent", HELLO, 404, "embedContent"),
        ("/v1beta/models/no-such-model:generateContent", HELLO, 404, "no-such-model"),
        ("/v1beta/models/gemini-3-flash:countTokens", {"contents": 3}, 400, "contents"),
    ],
)
async def test_bad_input_is_answered_in_gemini_shape(client, path, body, status, needle) -> None:
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
    headers = {**GOOG, "Content-Type": "application/json"}  # raw bytes are sent as JSON
    resp = await client.post(path, headers=headers, **kwargs)
    assert resp.status == status
    error = (await resp.json())["error"]
    assert error["code"] == status and error["status"] and needle in error["message"]
    assert resp.headers["X-Request-Id"]
    await _healthy(client)
