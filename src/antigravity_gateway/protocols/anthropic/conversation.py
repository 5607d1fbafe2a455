"""Anthropic `system`, `messages`, `tools` and `tool_choice` -> hub values, path by path.

Consecutive same-role messages are merged, empty ones skipped. After merging, tool_use and
tool_result blocks must pair up across adjacent messages (Anthropic's own rule): anything else
is a conversation no merge can repair, and a 400 naming the block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from antigravity_gateway.core.messages import (
    Message,
    Part,
    Role,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
)
from antigravity_gateway.errors import InvalidRequest
from antigravity_gateway.protocols import fields
from antigravity_gateway.protocols.fields import at
from antigravity_gateway.protocols.search import is_search_tool

from .blocks import decode_block

_CHOICES = {
    "auto": ToolChoice(mode="auto"),
    "any": ToolChoice(mode="required"),
    "none": ToolChoice(mode="none"),
}


@dataclass
class _Turn:
    role: Role
    path: str  # of the first message merged into this turn
    parts: list[Part] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)
    results: list[tuple[str, str]] = field(default_factory=list)  # (tool_use_id, path)

    def merge(self, later: _Turn) -> None:
        self.parts += later.parts
        self.calls |= later.calls
        self.results += later.results


def decode_system(value: object, path: str = "system") -> list[Text]:
    """A string or an array of text blocks."""
    if value is None:
        return []
    if isinstance(value, str):
        return [Text(text=value)] if value else []
    texts = []
    for k, block in enumerate(fields.array(value, path)):
        item = fields.obj(block, at(path, k))
        if item.get("type") != "text":
            raise InvalidRequest("system blocks must be text blocks", path=at(at(path, k), "type"))
        if text := fields.string(item.get("text"), at(at(path, k), "text")):
            texts.append(Text(text=text))
    return texts


def decode_messages(value: object) -> tuple[tuple[Text, ...], tuple[Message, ...]]:
    """(hoisted system texts, merged conversation) from `messages`."""
    system: list[Text] = []
    turns: list[_Turn] = []
    calls: dict[str, str] = {}  # tool_use id -> tool name, for naming the results
    for i, item in enumerate(fields.array(value, "messages", nonempty=True)):
        path = at("messages", i)
        message = fields.obj(item, path)
        role = message.get("role")
        if role == "system":  # Claude Code's mid-conversation prompts: hoisted after `system`
            system += decode_system(message.get("content"), at(path, "content"))
            continue
        if role not in ("user", "assistant"):
            what = "is required" if role is None else f"unknown role {role!r}"
            raise InvalidRequest(what, path=at(path, "role"))
        turn = _Turn(role=role, path=path)
        _add_content(turn, message.get("content"), at(path, "content"), calls)
        if turn.parts and turns and turns[-1].role == role:
            turns[-1].merge(turn)
        elif turn.parts:
            turns.append(turn)
    if not turns:
        raise InvalidRequest("must hold at least one user or assistant message", path="messages")
    _check_pairs(turns)
    return tuple(system), tuple(Message(role=t.role, parts=tuple(t.parts)) for t in turns)


def _add_content(turn: _Turn, content: object, path: str, calls: dict[str, str]) -> None:
    if isinstance(content, str):
        turn.parts += [Text(text=content)] if content else []
        return
    for k, block in enumerate(fields.array(content, path)):
        for part in decode_block(block, at(path, k), turn.role, calls):
            if isinstance(part, ToolCall):
                calls[part.id] = part.name
                turn.calls.add(part.id)
            elif isinstance(part, ToolResult):
                turn.results.append((part.call_id, at(at(path, k), "tool_use_id")))
            turn.parts.append(part)


def _check_pairs(turns: list[_Turn]) -> None:
    """Each tool_result answers a tool_use of the turn right before it, and each tool_use is
    answered in the next turn."""
    for k, turn in enumerate(turns):
        before = turns[k - 1] if k else None
        answered: set[str] = set()
        for call_id, path in turn.results:
            if before is None or call_id not in before.calls:
                raise InvalidRequest(
                    f"no tool_use with id {call_id!r} in the previous assistant message", path=path
                )
            if call_id in answered:
                raise InvalidRequest(f"a second tool_result for {call_id!r}", path=path)
            answered.add(call_id)
        after = turns[k + 1] if k + 1 < len(turns) else None
        if after is not None and (missing := turn.calls - {c for c, _ in after.results}):
            raise InvalidRequest(
                f"tool_use ids {sorted(missing)} have no tool_result in the next message",
                path=after.path,
            )


def decode_tools(value: object) -> tuple[Tool, ...]:
    """Custom tools; `input_schema` goes on as is (the upstream codec cleans it). The web search
    server tool (`web_search_20250305`) turns on search grounding; other server tools are a 400."""
    if value is None:
        return ()
    tools = []
    for i, item in enumerate(fields.array(value, "tools")):
        path = at("tools", i)
        tool = fields.obj(item, path)
        kind = tool.get("type")
        if is_search_tool(tool):
            continue  # web_search_20250305: the hub's web_search flag (inbound.py)
        if kind not in (None, "custom"):
            raise InvalidRequest(
                f"server tool {kind!r} is not supported; declare client tools with input_schema",
                path=at(path, "type"),
            )
        tools.append(
            Tool(
                name=fields.string(tool.get("name"), at(path, "name"), nonempty=True),
                description=fields.opt_string(tool, "description", path) or "",
                parameters=fields.obj(tool.get("input_schema"), at(path, "input_schema")),
            )
        )
    return tuple(tools)


def decode_tool_choice(value: object, tools: tuple[Tool, ...]) -> ToolChoice | None:
    if value is None:
        return None
    choice = fields.obj(value, "tool_choice")
    kind = choice.get("type")
    if kind == "tool":
        name = fields.string(choice.get("name"), "tool_choice.name", nonempty=True)
        if name not in {t.name for t in tools}:
            raise InvalidRequest("names no declared tool", path="tool_choice.name")
        return ToolChoice(mode="tool", name=name)
    if isinstance(kind, str) and kind in _CHOICES:
        return _CHOICES[kind]
    raise InvalidRequest('must be "auto", "any", "tool" or "none"', path="tool_choice.type")
