"""Responses `tools` and `tool_choice` -> hub tools, plus the names to map calls back.

A `custom` tool (free text, e.g. Codex's apply_patch) is offered as a function with one string
argument `input`; its calls go back as `custom_tool_call`. A `namespace` is flattened to
`<namespace>__<tool>`. Hosted tools are dropped: the upstream cannot mix its search grounding
with function tools, and runs none of the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from antigravity_gateway.core.messages import Tool, ToolChoice
from antigravity_gateway.errors import InvalidRequest
from antigravity_gateway.protocols import fields
from antigravity_gateway.protocols.fields import at

HOSTED = frozenset(
    {
        "web_search", "web_search_preview", "web_search_preview_2025_03_11",
        "web_search_2025_08_26", "file_search", "code_interpreter", "computer_use",
        "computer_use_preview", "image_generation", "local_shell", "shell", "mcp",
        "tool_search", "apply_patch",
    }
)  # fmt: skip
SEPARATOR = "__"
_MODES = {mode: ToolChoice(mode=mode) for mode in ("auto", "none", "required")}


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolNames:
    """Which hub tool names stand for custom tools, and which came from a namespace."""

    custom: frozenset[str] = frozenset()
    namespaced: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # hub -> (ns, name)

    def split(self, hub_name: str) -> tuple[str, str]:
        """(namespace or "", name as the client declared it)."""
        return self.namespaced.get(hub_name, ("", hub_name))


def flat_name(namespace: str, name: str) -> str:
    if not namespace or name.startswith((namespace + SEPARATOR, "mcp__")):
        return name
    return f"{namespace}{SEPARATOR}{name}"


def decode_tools(value: object) -> tuple[tuple[Tool, ...], ToolNames]:
    if value is None:
        return (), ToolNames()
    tools: list[Tool] = []
    custom: set[str] = set()
    namespaced: dict[str, tuple[str, str]] = {}
    for i, item in enumerate(fields.array(value, "tools")):
        path = at("tools", i)
        tool = fields.obj(item, path)
        kind = tool.get("type")
        if kind == "namespace":
            namespace = fields.string(tool.get("name"), at(path, "name"), nonempty=True)
            nested = fields.array(tool.get("tools"), at(path, "tools"))
            for j, child in enumerate(nested):
                hub, name = _tool(child, at(at(path, "tools"), j), namespace, custom)
                tools.append(hub)
                namespaced[hub.name] = (namespace, name)
        elif isinstance(kind, str) and kind in HOSTED:
            continue
        else:
            tools.append(_tool(tool, path, "", custom)[0])
    return tuple(tools), ToolNames(custom=frozenset(custom), namespaced=namespaced)


def _tool(item: object, path: str, namespace: str, custom: set[str]) -> tuple[Tool, str]:
    tool = fields.obj(item, path)
    name = fields.string(tool.get("name"), at(path, "name"), nonempty=True)
    description = fields.opt_string(tool, "description", path) or ""
    hub_name = flat_name(namespace, name)
    match tool.get("type"):
        case "function":  # `strict` is dropped: the upstream has no such switch
            params = tool.get("parameters")
            params = {} if params is None else fields.obj(params, at(path, "parameters"))
            return Tool(name=hub_name, description=description, parameters=params), name
        case "custom":
            custom.add(hub_name)
            params = _custom_parameters(tool.get("format"), at(path, "format"))
            return Tool(name=hub_name, description=description, parameters=params), name
        case None:
            raise InvalidRequest("is required", path=at(path, "type"))
        case kind:
            raise InvalidRequest(f"unsupported tool type {kind!r}", path=at(path, "type"))


def _custom_parameters(value: object, path: str) -> dict[str, Any]:
    """One string argument `input`; a grammar (Lark, regex), when given, is spelled out for the
    model in the argument's description."""
    hint = "The raw text input of this tool, exactly as the tool expects it."
    if value is not None:
        fmt = fields.obj(value, path)
        if fmt.get("type") == "grammar":
            syntax = fields.string(fmt.get("syntax"), at(path, "syntax"), nonempty=True)
            definition = fields.string(fmt.get("definition"), at(path, "definition"))
            hint += f" It must match this {syntax} grammar:\n{definition}"
        elif fmt.get("type") != "text":
            raise InvalidRequest('must be "text" or "grammar"', path=at(path, "type"))
    return {
        "type": "object",
        "properties": {"input": {"type": "string", "description": hint}},
        "required": ["input"],
    }


def decode_tool_choice(value: object, tools: tuple[Tool, ...]) -> ToolChoice | None:
    """auto/none/required, a named function or custom tool, or allowed_tools (its mode only).
    Choosing a hosted tool means `auto`: the hosted tools are not offered upstream."""
    match value:
        case None:
            return None
        case str() as mode if mode in _MODES:
            return _MODES[mode]
        case {"type": "function" | "custom", "name": str() as name, **rest}:
            return _named(name, rest.get("namespace"), tools)
        case {"type": "allowed_tools", "mode": str() as mode} if mode in _MODES:
            return _MODES[mode]
        case {"type": str() as kind} if kind in HOSTED:
            return _MODES["auto"]
    raise InvalidRequest(
        'must be "auto", "none", "required" or {"type": "function", "name": ...}',
        path="tool_choice",
    )


def _named(name: str, namespace: object, tools: tuple[Tool, ...]) -> ToolChoice:
    hub_name = flat_name(namespace if isinstance(namespace, str) else "", name)
    if hub_name not in {t.name for t in tools}:
        raise InvalidRequest("names no declared tool", path="tool_choice.name")
    return ToolChoice(mode="tool", name=hub_name)
