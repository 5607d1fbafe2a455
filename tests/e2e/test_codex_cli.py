"""The real Codex CLI (`codex exec`) against `agm serve`, with the simulator as Google.

Configured exactly as docs/clients.md §2: a custom model provider with the Responses
wire, `--disable plugins`, analytics off, CODEX_HOME under the test's tmp dir, so it never looks
up a vendor host. The model is named by its upstream id (Codex warns about unknown model
metadata, which is harmless). Runs only inside the loopback-only namespace:
`python -m tests.isolated tests/e2e/test_codex_cli.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tomli_w

from tests.e2e.clis import run_cli
from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import text, thinking, tool_call
from tests.fakes.cloudcode import FakeGoogle

MODEL = "gemini-3-flash"


def codex(gateway: Gateway, tmp_path: Path, prompt: str) -> list[dict[str, Any]]:
    """Runs `codex exec --json`; returns its JSONL events."""
    home = tmp_path / "home"
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True)
    config = {
        "model": MODEL,
        "model_provider": "local",
        "check_for_update_on_startup": False,
        "model_providers": {
            "local": {
                "name": "Local gateway",
                "base_url": gateway.url + "/v1",
                "env_key": "LOCAL_API_KEY",
                "wire_api": "responses",
                "request_max_retries": 1,
                "stream_max_retries": 1,
                "stream_idle_timeout_ms": 20000,
            }
        },
        "analytics": {"enabled": False},
    }
    (codex_home / "config.toml").write_text(tomli_w.dumps(config))
    env = {"CODEX_HOME": str(codex_home), "LOCAL_API_KEY": API_KEY}
    args = ["exec", "--skip-git-repo-check", "--ephemeral", "--disable", "plugins", "--json"]
    done = run_cli("codex", [*args, prompt], home=home, env=env)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _completed(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [
        e["item"]
        for e in events
        if e.get("type") == "item.completed" and e.get("item", {}).get("type") == kind
    ]


def test_says_hi(gateway: Gateway, fake: FakeGoogle, tmp_path: Path) -> None:
    fake.script([thinking("The user greets me."), text("Hi! How can I help?")])
    events = codex(gateway, tmp_path, "say hi")
    [message] = _completed(events, "agent_message")
    assert message["text"] == "Hi! How can I help?"
    assert any(e.get("type") == "turn.completed" for e in events)
    [call] = fake.calls("streamGenerateContent")
    request = call.body["request"]
    assert request["contents"][-1]["parts"][-1]["text"] == "say hi"
    assert "Codex" in request["systemInstruction"]["parts"][0]["text"]
    names = [d["name"] for t in request["tools"] for d in t["functionDeclarations"]]
    assert "exec_command" in names
    assert "Traceback" not in gateway.log.read_text()  # Codex hangs up right after completed


def test_tool_round_trip(gateway: Gateway, fake: FakeGoogle, tmp_path: Path) -> None:
    fake.script(
        [tool_call("exec_command", {"cmd": "echo hello-from-tool"})],
        text("The command printed hello-from-tool."),
    )
    events = codex(gateway, tmp_path, "run echo hello-from-tool")
    [run] = _completed(events, "command_execution")
    assert "hello-from-tool" in run["aggregated_output"]
    [message] = _completed(events, "agent_message")
    assert message["text"] == "The command printed hello-from-tool."
    first, second = fake.calls("streamGenerateContent")
    model_turn, results = second.body["request"]["contents"][-2:]
    [called] = [p["functionCall"] for p in model_turn["parts"] if "functionCall" in p]
    assert called["name"] == "exec_command"
    [response] = [p["functionResponse"] for p in results["parts"] if "functionResponse" in p]
    assert response["name"] == "exec_command"
    assert "hello-from-tool" in response["response"]["result"]
