"""z.ai dispatch end to end: Claude Code and the anthropic SDK against `agm serve`, z.ai played
by the keyed fake (Anthropic Messages with thinking signatures it checks), Google by the simulator.

exclusive: text, stream, a tool round trip whose thinking signature must come back intact (the
fake refuses any other); fallback: Google while an account is usable, z.ai once all are cooling;
pooled: both serve. Claude Code runs only in the loopback-only namespace (tests.isolated).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from tests.e2e.gateway import API_KEY, Gateway
from tests.e2e.test_claude_code import claude
from tests.fakes import quota_exhausted
from tests.fakes.cloudcode import FakeGoogle
from tests.fakes.keyed import FakeKeyed, KeyedThread
from tests.fakes.keyed_render import call_tool, say

ZAI_KEY = "zai-e2e-key"
GLM = "glm-4.7"
BASH = {"name": "Bash", "description": "run a command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}


@pytest.fixture(scope="module")
def zai() -> Iterator[FakeKeyed]:
    with KeyedThread(keys={ZAI_KEY}) as fake:
        yield fake


@pytest.fixture(autouse=True)
def _fresh_zai(zai: FakeKeyed) -> None:
    zai.clear()


def _start(fake: FakeGoogle, zai: FakeKeyed, data_dir: Path, mode: str, accounts: int) -> Gateway:
    section = {"enabled": True, "api_key": ZAI_KEY, "base_url": zai.url("/zai"),
               "dispatch_mode": mode}
    return Gateway.start(fake, data_dir, accounts=accounts, max_wait_seconds=0,
                         sections={"zai": section})


@pytest.fixture(scope="module")
def exclusive(fake: FakeGoogle, zai: FakeKeyed, tmp_path_factory) -> Iterator[Gateway]:
    gateway = _start(fake, zai, Path(tmp_path_factory.mktemp("excl")), "exclusive", 1)
    yield gateway
    gateway.stop()


def _sdk(gateway: Gateway) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.url, api_key=API_KEY, max_retries=0)


def _ask(content: str) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-5", "max_tokens": 2048,
            "messages": [{"role": "user", "content": content}]}


def test_sdk_text_and_stream_reach_zai(exclusive: Gateway, zai: FakeKeyed,
                                       fake: FakeGoogle) -> None:
    zai.script(say("Hello from GLM."), say("Streamed from GLM."), model=GLM)
    message = _sdk(exclusive).messages.with_raw_response.create(**_ask("hi"))
    assert message.headers["x-mapped-model"] == f"zai/{GLM}"
    assert message.parse().content[0].text == "Hello from GLM."
    with _sdk(exclusive).messages.stream(**_ask("hi again")) as stream:
        assert "".join(stream.text_stream) == "Streamed from GLM."
    assert [c.model for c in zai.calls("anthropic")] == [GLM, GLM]
    assert not fake.calls("streamGenerateContent")


def test_sdk_tool_round_trip_keeps_the_thinking_signature(
    exclusive: Gateway, zai: FakeKeyed
) -> None:
    zai.script(call_tool("Bash", {"command": "ls"}, thinking="I should list the files."),
               say("There are two files."), model=GLM)
    client = _sdk(exclusive)
    ask = {**_ask("list the files"), "tools": [BASH],
           "thinking": {"type": "enabled", "budget_tokens": 1024}}
    first = client.messages.create(**ask)
    thinking, tool_use = first.content[0], first.content[-1]
    assert thinking.type == "thinking" and thinking.thinking == "I should list the files."
    assert tool_use.type == "tool_use" and tool_use.input == {"command": "ls"}
    ask["messages"] = [*ask["messages"],
                       {"role": "assistant", "content": [b.model_dump() for b in first.content]},
                       {"role": "user", "content": [{"type": "tool_result",
                                                     "tool_use_id": tool_use.id,
                                                     "content": "a.txt b.txt"}]}]
    second = client.messages.create(**ask)  # the fake answers 400 to a foreign signature
    assert second.content[0].text == "There are two files."
    replayed = zai.calls("anthropic")[1].body["messages"][1]["content"][0]
    assert replayed["signature"] in zai.signatures


def test_claude_code_text_and_tool_round_trip(
    exclusive: Gateway, zai: FakeKeyed, tmp_path: Path
) -> None:
    zai.script(say("Hi from GLM!"), model=GLM)
    result = claude(exclusive, tmp_path, "say hi", "claude-sonnet-4-5")
    assert result["result"] == "Hi from GLM!"
    zai.clear()
    zai.script(call_tool("Bash", {"command": "echo hello-from-tool", "description": "echo"},
                         thinking="I will run the command."),
               say("The command printed hello-from-tool."), model=GLM)
    result = claude(exclusive, tmp_path, "Run: echo hello-from-tool", "claude-sonnet-4-5")
    assert result["result"] == "The command printed hello-from-tool."
    calls = [c for c in zai.calls("anthropic") if c.model == GLM]
    assert len(calls) == 2 and all(c.status == 200 for c in calls)
    messages = calls[1].body["messages"]
    turn = next(m for m in messages if m["role"] == "assistant")
    thinking = next(b for b in turn["content"] if b["type"] == "thinking")
    assert thinking["signature"] in zai.signatures
    results = [b for m in messages if isinstance(m["content"], list) for b in m["content"]
               if b.get("type") == "tool_result"]
    assert "hello-from-tool" in str(results[-1]["content"])


def test_fallback_google_first_then_zai(fake: FakeGoogle, zai: FakeKeyed, tmp_path: Path) -> None:
    gateway = _start(fake, zai, tmp_path / "data", "fallback", 1)
    try:
        client = _sdk(gateway)
        google = client.messages.with_raw_response.create(**_ask("hi"))
        assert google.headers["x-account-email"] == gateway.emails[0]
        fake.script_for(quota_exhausted("claude-sonnet-4-6"), model="claude-sonnet-4-6")
        for _ in range(2):  # every account cooling: z.ai answers instead of a 429
            served = client.messages.with_raw_response.create(**_ask("hi"))
            assert served.headers["x-account-email"] == "zai"
            assert served.parse().content[0].text == f"Hello from {GLM}."
    finally:
        gateway.stop()


def test_pooled_both_serve(fake: FakeGoogle, zai: FakeKeyed, tmp_path: Path) -> None:
    gateway = _start(fake, zai, tmp_path / "data", "pooled", 1)
    try:
        client = _sdk(gateway)
        served = [client.messages.with_raw_response.create(**_ask("hi")).headers[
            "x-account-email"] for _ in range(4)]
        assert served.count("zai") == 2 and served.count(gateway.emails[0]) == 2
    finally:
        gateway.stop()
