"""Claude Code with the gateway's MCP servers added by URL (`claude mcp add --transport http`).

`claude mcp list` must show all three as connected (through the gateway's auth), and in
`claude -p` the model (the simulator, scripted) calls the local vision tool: Claude Code runs it
through the gateway, which asks the fake z.ai's vision endpoint, and the answer reaches the model.
Runs only in the loopback-only namespace:
`python -m tests.isolated tests/e2e/test_claude_code_mcp.py`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.clis import run_cli
from tests.e2e.gateway import API_KEY, Gateway
from tests.e2e.test_claude_code import QUIET
from tests.fakes import text, tool_call
from tests.fakes.cloudcode import FakeGoogle
from tests.fakes.zai import FakeZai

SERVERS = {
    "zai-search": "web_search_prime",
    "zai-reader": "web_reader",
    "zai-vision": "zai-mcp-server",
}
MODEL = "gemini-3-flash"


def _claude(tmp_path: Path, gateway: Gateway, *args: str) -> str:
    env = {**QUIET, "ANTHROPIC_BASE_URL": gateway.url, "ANTHROPIC_API_KEY": API_KEY,
           "ANTHROPIC_MODEL": MODEL}
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    done = run_cli("claude", list(args), home=tmp_path / "home", env=env, cwd=work)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


def _add_servers(tmp_path: Path, gateway: Gateway) -> None:
    for name, route in SERVERS.items():
        url = f"{gateway.url}/mcp/{route}/mcp"
        auth = f"Authorization: Bearer {API_KEY}"
        _claude(tmp_path, gateway, "mcp", "add", "--transport", "http", name, url, "--header", auth)


def test_mcp_list_shows_the_servers_connected(
    zai_gateway: Gateway, zai: FakeZai, tmp_path: Path
) -> None:
    _add_servers(tmp_path, zai_gateway)
    listing = _claude(tmp_path, zai_gateway, "mcp", "list")
    for name in SERVERS:
        [line] = [row for row in listing.splitlines() if row.startswith(f"{name}:")]
        assert "Connected" in line, listing


CALLS = [  # (tool as Claude Code names it, arguments, what the model must get back)
    (
        "mcp__zai-vision__analyze_image",
        {"image_source": "https://example.com/cat.png", "prompt": "Which animal?"},
        "glm-4.6v looked at https://example.com/cat.png for: Which animal?",
    ),
    (
        "mcp__zai-search__webSearchPrime",
        {"search_query": "aiohttp streaming"},
        "https://example.com/aiohttp-streaming",
    ),
]


@pytest.mark.parametrize(("tool", "args", "answer"), CALLS, ids=["vision", "web-search"])
def test_claude_calls_a_tool(
    zai_gateway: Gateway, fake: FakeGoogle, zai: FakeZai, tmp_path: Path, tool, args, answer
) -> None:
    _add_servers(tmp_path, zai_gateway)
    fake.script_for(tool_call(tool, args), text("Done: I used the tool."), model=MODEL)
    out = _claude(
        tmp_path, zai_gateway, "-p", "Use the tool, please.",
        "--output-format", "json", "--allowedTools", tool,
    )
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    assert result["result"] == "Done: I used the tool.", result
    calls = [c.body for c in fake.calls("streamGenerateContent") if c.status == 200]
    parts = [p for c in calls[-1]["request"]["contents"] for p in c["parts"]]
    [response] = [p["functionResponse"] for p in parts if "functionResponse" in p]
    assert answer in json.dumps(response), response
    if "vision" in tool:
        [vision] = zai.vision_calls
        assert vision["messages"][-1]["content"][0]["image_url"]["url"] == args["image_source"]
