"""The real Gemini CLI (`gemini -p`) against `agm serve`, with the simulator as Google.

Settings and environment exactly as docs/clients.md §3 (no telemetry, no auto-update,
API-key auth): it never reaches a Google host. Its model names (a router model, then the routed
one) are not upstream ids; the gateway's Gemini family rule routes them with no configuration.
Runs only in the loopback-only namespace: `python -m tests.isolated tests/e2e/test_gemini_cli.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.clis import run_cli
from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import Reply, text, tool_call
from tests.fakes.cloudcode import FakeGoogle

SETTINGS = {
    "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "security": {"auth": {"selectedType": "gemini-api-key"}},
}


@pytest.fixture(scope="module")
def gateway(fake: FakeGoogle, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    data_dir = Path(tmp_path_factory.mktemp("agm"))
    gateway = Gateway.start(fake, data_dir)
    yield gateway
    gateway.stop()


def gemini(gateway: Gateway, home: Path, *args: str, cwd: Path | None = None) -> str:
    settings = home / ".gemini" / "settings.json"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(json.dumps(SETTINGS))
    env = {
        "GEMINI_API_KEY": API_KEY,
        "GOOGLE_GEMINI_BASE_URL": gateway.url,
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
        "GEMINI_CLI_NO_RELAUNCH": "true",
    }
    done = run_cli("gemini", list(args), home=home, env=env, cwd=cwd)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _requests(fake: FakeGoogle) -> list[dict]:
    return [c.body["request"] for c in fake.calls("streamGenerateContent")]


def test_answers_after_its_router_call(gateway: Gateway, fake: FakeGoogle, tmp_path: Path) -> None:
    out = gemini(gateway, tmp_path / "home", "-p", "say hi")
    assert "Hello from gemini-3-flash." in out
    requests = _requests(fake)
    router = [r for r in requests if r.get("generationConfig", {}).get("responseMimeType")]
    assert router, "the router call (JSON output) never reached the upstream"
    config = router[0]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert "complexity_score" in json.dumps(config["responseJsonSchema"])
    main = requests[-1]
    assert main["contents"][-1]["parts"][-1]["text"].endswith("say hi")
    assert main["systemInstruction"]["parts"][0]["text"]
    names = [d["name"] for t in main["tools"] for d in t.get("functionDeclarations", [])]
    assert "read_file" in names


def test_read_file_round_trip(gateway: Gateway, fake: FakeGoogle, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "hello.py").write_text("print('hello')\n")
    fake.script(
        Reply(),  # the router call: the default JSON answer
        tool_call("read_file", {"file_path": "hello.py"}),
        text("The file prints hello."),
    )
    out = gemini(gateway, tmp_path / "home", "-p", "what does hello.py print?", cwd=work)
    assert "The file prints hello." in out
    calls = fake.calls("streamGenerateContent")
    assert [c.status for c in calls] == [200, 200, 200]  # router, tool call, answer; no retry
    last = calls[-1].body["request"]["contents"]
    [call] = [p for c in last if c["role"] == "model" for p in c["parts"] if "functionCall" in p]
    assert call["functionCall"]["name"] == "read_file"
    # the simulator's own signature came back through the CLI (not the bypass sentinel)
    assert call["thoughtSignature"] not in ("", "skip_thought_signature_validator")
    [result] = [p["functionResponse"] for c in last for p in c["parts"] if "functionResponse" in p]
    assert result["name"] == "read_file"
    assert result["id"] == call["functionCall"]["id"]
    assert "print('hello')" in json.dumps(result["response"])


def test_google_web_search_tool_gets_grounding(
    gateway: Gateway, fake: FakeGoogle, tmp_path: Path
) -> None:
    """The CLI's google_web_search tool makes its own googleSearch request and builds its
    answer (citation markers, a source list) from the groundingMetadata the gateway passes on."""
    fake.script(
        Reply(),  # the router call
        tool_call("google_web_search", {"query": "rust 1.80 release date"}),
        text("Rust 1.80 came out on 25 July 2024."),  # the search request's answer
        text("It came out in July 2024."),
    )
    out = gemini(gateway, tmp_path / "home", "-p", "search the web: when did rust 1.80 ship?")
    assert "It came out in July 2024." in out
    calls = fake.calls("streamGenerateContent")
    searches = [c for c in calls if c.body["requestType"] == "web_search"]
    assert len(searches) == 1
    assert {"googleSearch": {}} in searches[0].body["request"]["tools"]
    last = calls[-1].body["request"]["contents"]
    [result] = [p["functionResponse"] for c in last for p in c["parts"] if "functionResponse" in p]
    assert result["name"] == "google_web_search"
    returned = json.dumps(result["response"])
    assert "Rust 1.80 came out on 25 July 2024." in returned
    assert "grounding-api-redirect" in returned  # the CLI listed the sources it was given
