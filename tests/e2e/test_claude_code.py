"""Claude Code (npm @anthropic-ai/claude-code, headless `claude -p`) against `agm serve`.

Runs only in the loopback-only namespace (`python -m tests.isolated tests/e2e/test_claude_code.py`)
with the environment of docs/clients.md §1, which stops all vendor traffic. Each
target is tried as a Gemini model, a Claude model, and with no model configured at all
(Claude Code's own default name, routed by the gateway's family rule for `*opus*`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.clis import run_cli
from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import text, thinking, tool_call
from tests.fakes.cloudcode import FakeGoogle

QUIET = {  # docs/clients.md §1: zero vendor lookups in -p mode
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
    "CLAUDE_CODE_MAX_RETRIES": "0",  # a failure shows at once instead of after 3 minutes
}
# (ANTHROPIC_MODEL, the upstream model it must reach)
TARGETS = [
    ("gemini-3-flash", "gemini-3-flash"),
    ("claude-sonnet-4-6", "claude-sonnet-4-6"),
    (None, "claude-opus-4-6-thinking"),  # Claude Code's default, claude-opus-4-8
]
IDS = ["gemini", "claude", "default-model"]


def claude(
    gateway: Gateway, tmp_path: Path, prompt: str, model: str | None, *, bearer: bool = False
) -> dict[str, Any]:
    env = {**QUIET, "ANTHROPIC_BASE_URL": gateway.url}
    env["ANTHROPIC_AUTH_TOKEN" if bearer else "ANTHROPIC_API_KEY"] = API_KEY
    if model:
        env["ANTHROPIC_MODEL"] = model
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    args = ["-p", prompt, "--output-format", "json", "--allowedTools", "Bash"]
    done = run_cli("claude", args, home=tmp_path / "home", env=env, cwd=work)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["type"] == "result" and result["subtype"] == "success", result
    return result


def generated(fake: FakeGoogle) -> list[dict[str, Any]]:
    return [c.body for c in fake.calls("streamGenerateContent") if c.status == 200]


@pytest.mark.parametrize(("model", "upstream"), TARGETS, ids=IDS)
def test_say_hi(gateway: Gateway, fake: FakeGoogle, tmp_path: Path, model, upstream) -> None:
    fake.script_for(text("Hi! How can I help?"), model=upstream)
    result = claude(gateway, tmp_path, "say hi", model, bearer=model is None)
    assert result["result"] == "Hi! How can I help?"
    [call] = generated(fake)
    assert call["model"] == upstream
    request = call["request"]
    assert any("say hi" in p.get("text", "") for p in request["contents"][0]["parts"])
    assert request["systemInstruction"]["parts"] and request["tools"]


@pytest.mark.parametrize(("model", "upstream"), TARGETS, ids=IDS)
def test_tool_round_trip(
    gateway: Gateway, fake: FakeGoogle, tmp_path: Path, model, upstream
) -> None:
    command = {"command": "echo hello-from-tool", "description": "echo"}
    first: list[Any] = [tool_call("Bash", command)]
    if "claude" in upstream:  # Claude thinks first: its signature must survive the round trip
        first.insert(0, thinking("I will run the command."))
    fake.script_for(first, text("The command printed hello-from-tool."), model=upstream)
    result = claude(gateway, tmp_path, "Run: echo hello-from-tool", model)
    assert result["result"] == "The command printed hello-from-tool."
    calls = generated(fake)
    assert len(calls) == 2 and {c["model"] for c in calls} == {upstream}
    contents = calls[1]["request"]["contents"]
    parts = [p for c in contents for p in c["parts"]]
    responses = [p["functionResponse"] for p in parts if "functionResponse" in p]
    assert responses and responses[-1]["name"] == "Bash"
    assert "hello-from-tool" in json.dumps(responses[-1]["response"])
    model_turn = next(c for c in contents if c["role"] == "model")
    call = next(p for p in model_turn["parts"] if "functionCall" in p)
    assert call["functionCall"]["args"]["command"] == "echo hello-from-tool"
    if "claude" in upstream:
        assert model_turn["parts"][0]["thought"] is True
        assert model_turn["parts"][0]["thoughtSignature"]
    else:
        assert call["thoughtSignature"] != "skip_thought_signature_validator"


def test_web_search_tool_gets_results(gateway: Gateway, fake: FakeGoogle, tmp_path: Path) -> None:
    """Claude Code's WebSearch runs its own request with the `web_search_20250305` server tool:
    the gateway answers it with Google's grounding as `web_search_tool_result` blocks."""
    fake.script(
        tool_call("WebSearch", {"query": "rust 1.80 release date"}),
        text("Rust 1.80 came out on 25 July 2024."),  # the search request's answer
        text("It came out in July 2024."),
    )
    env = {**QUIET, "ANTHROPIC_BASE_URL": gateway.url, "ANTHROPIC_API_KEY": API_KEY,
           "ANTHROPIC_MODEL": "gemini-3-flash"}  # fmt: skip
    args = ["-p", "when did rust 1.80 ship? search the web", "--output-format", "json",
            "--allowedTools", "WebSearch"]  # fmt: skip
    done = run_cli("claude", args, home=tmp_path / "home", env=env, cwd=tmp_path)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["result"] == "It came out in July 2024.", result
    calls = generated(fake)
    searches = [c for c in calls if c["requestType"] == "web_search"]
    assert len(searches) == 1 and {"googleSearch": {}} in searches[0]["request"]["tools"]
    contents = calls[-1]["request"]["contents"]
    [result_part] = [p["functionResponse"] for c in contents for p in c["parts"]
                     if "functionResponse" in p]  # fmt: skip
    assert result_part["name"] == "WebSearch"
    assert "grounding-api-redirect" in json.dumps(result_part["response"])
