"""Claude Code's warmups and background tasks, recognised on decoded requests."""

from __future__ import annotations

from typing import Any

import pytest

from antigravity_gateway.core.messages import Reasoning, Thinking
from antigravity_gateway.protocols.anthropic import claude_code, inbound


def decoded(*messages: dict[str, Any]) -> Any:
    body = {"model": "claude-opus-4-8", "max_tokens": 10, "messages": list(messages)}
    return inbound.decode_request(body)


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


TEXT_WARMUP = {"type": "text", "text": "Warmup"}


@pytest.mark.parametrize(
    ("content", "warmup"),
    [
        ("Warmup", True),
        ("  Warmup\n", True),
        ([{"type": "text", "text": "<system-reminder>x</system-reminder>"}, TEXT_WARMUP], True),
        ([{"type": "text", "text": "Warmup\nwith more lines of context"}], True),
        ("Warmup exercises before a run?", False),
        ("hello", False),
    ],
)  # fmt: skip
def test_warmup(content: Any, warmup: bool) -> None:
    assert claude_code.is_warmup(decoded(user(content))) is warmup


def test_warmup_as_a_failed_tool_result_and_only_in_the_last_message() -> None:
    call = {"type": "tool_use", "id": "t", "name": "Bash", "input": {}}
    failed = {"type": "tool_result", "tool_use_id": "t", "content": "Warmup", "is_error": True}
    conversation = [user("go"), {"role": "assistant", "content": [call]}, user([failed])]
    assert claude_code.is_warmup(decoded(*conversation))
    answered = decoded(user("Warmup"), {"role": "assistant", "content": "OK"})
    assert not claude_code.is_warmup(answered)


@pytest.mark.parametrize(
    ("content", "background"),
    [
        ("Please write a 5-10 word title for the following conversation:\n\nUser: fix it", True),
        ("Summarize this coding conversation in under 50 characters.", True),
        ("You are a prompt suggestion generator. Suggest what the user may type next.", True),
        ("Fix the failing test in parser.py", False),
        ("<system-reminder>ctx</system-reminder>\nwrite a 5-10 word title", False),
        ("Summarize the conversation " + "x" * 900, False),
        ("x" * 600 + " Summarize the conversation", False),
    ],
)  # fmt: skip
def test_background_tasks(content: str, background: bool) -> None:
    assert claude_code.is_background_task(decoded(user(content))) is background


def test_background_task_drops_thinking_and_asks_for_none() -> None:
    thinking = {"type": "thinking", "thinking": "hm", "signature": "claude#sig"}
    req = decoded(
        user("hi"),
        {"role": "assistant", "content": [thinking, {"type": "text", "text": "hello"}]},
        user("Generate a title for this chat"),
    )
    routed = claude_code.as_background_task(req)
    assert routed.model == claude_code.BACKGROUND_MODEL == "internal-background-task"
    assert routed.reasoning == Reasoning(effort="none", include_thoughts=False)
    assert not any(isinstance(p, Thinking) for m in routed.messages for p in m.parts)
    assert len(routed.messages) == 3
