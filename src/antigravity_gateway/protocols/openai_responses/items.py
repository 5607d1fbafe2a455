"""Responses `input` (a string or a list of items) -> hub system texts and messages.

System and developer messages go to ChatRequest.system; consecutive items of one role share a
turn. File ids and item_reference are a 400: there is no file or item store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from antigravity_gateway.core.messages import (
    Media,
    Message,
    Part,
    Role,
    Text,
    Thinking,
    ToolCall,
    ToolResult,
)
from antigravity_gateway.errors import InvalidRequest
from antigravity_gateway.protocols import fields
from antigravity_gateway.protocols.fields import at
from antigravity_gateway.protocols.openai_chat.conversation import (
    decode_arguments,
    decode_media,
    decode_parts,
)

from .sealed import unseal
from .tools import flat_name

# Items of hosted tools: skipped (as are refusals, item ids, statuses and image `detail`).
HOSTED_ITEMS = frozenset(
    {
        "web_search_call", "file_search_call", "code_interpreter_call", "image_generation_call",
        "computer_call", "computer_call_output", "local_shell_call", "local_shell_call_output",
        "shell_call", "shell_call_output", "apply_patch_call", "apply_patch_call_output",
        "mcp_call", "mcp_list_tools", "mcp_approval_request", "mcp_approval_response",
        "tool_search_call", "tool_search_output", "compaction",
    }
)  # fmt: skip
_TEXT = frozenset({"input_text", "output_text", "text"})
_PARTS: dict[str, frozenset[str]] = {
    "system": _TEXT,
    "developer": _TEXT,
    "user": _TEXT | {"input_image", "input_file"},
    "assistant": _TEXT | {"refusal"},
}


class InputReader:
    """Reads items in order; `calls` (call id -> tool name) starts from the earlier history."""

    def __init__(self, calls: Mapping[str, str]) -> None:
        self.system: list[Text] = []
        self.messages: list[Message] = []
        self.calls = dict(calls)

    def read(self, value: object) -> None:
        if isinstance(value, str):
            self._push("user", [Text(text=value)] if value else [])
            return
        for i, item in enumerate(fields.array(value, "input")):
            self._item(fields.obj(item, at("input", i)), at("input", i))

    def _item(self, item: dict[str, Any], path: str) -> None:
        kind = item.get("type", "message" if "role" in item else None)
        match kind:
            case "message":
                self._message(item, path)
            case "function_call" | "custom_tool_call":
                self._call(item, path, custom=kind == "custom_tool_call")
            case "function_call_output" | "custom_tool_call_output":
                self._output(item, path)
            case "reasoning":
                self._reasoning(item, path)
            case "item_reference":
                raise InvalidRequest(
                    "item references are not supported; send the items themselves",
                    path=at(path, "type"),
                )
            case str() if kind in HOSTED_ITEMS:
                return
            case None:
                raise InvalidRequest("is required", path=at(path, "type"))
            case _:
                raise InvalidRequest(f"unknown input item type {kind!r}", path=at(path, "type"))

    def _message(self, item: dict[str, Any], path: str) -> None:
        role = item.get("role")
        if not isinstance(role, str) or role not in _PARTS:
            raise InvalidRequest(
                'must be "user", "assistant", "system" or "developer"', path=at(path, "role")
            )
        parts = decode_parts(item.get("content"), at(path, "content"), _PARTS[role], _part)
        if role in ("system", "developer"):
            self.system += [p for p in parts if isinstance(p, Text)]
        else:
            self._push("user" if role == "user" else "assistant", parts)

    def _call(self, item: dict[str, Any], path: str, *, custom: bool) -> None:
        call_id = fields.string(item.get("call_id"), at(path, "call_id"), nonempty=True)
        name = fields.string(item.get("name"), at(path, "name"), nonempty=True)
        name = flat_name(fields.opt_string(item, "namespace", path) or "", name)
        if custom:  # its text becomes the one argument `input` (see tools.py)
            arguments = {"input": fields.string(item.get("input"), at(path, "input"))}
        else:
            arguments = decode_arguments(item.get("arguments"), at(path, "arguments"))
        self.calls[call_id] = name
        self._push("assistant", [ToolCall(id=call_id, name=name, arguments=arguments)])

    def _output(self, item: dict[str, Any], path: str) -> None:
        call_id = fields.string(item.get("call_id"), at(path, "call_id"), nonempty=True)
        if call_id not in self.calls:
            raise InvalidRequest("matches no earlier tool call", path=at(path, "call_id"))
        output = item.get("output")
        content = decode_parts(output, at(path, "output"), _PARTS["user"], _part)
        media_or_text = tuple(p for p in content if isinstance(p, Text | Media))
        result = ToolResult(call_id=call_id, name=self.calls[call_id], content=media_or_text)
        self._push("user", [result])

    def _reasoning(self, item: dict[str, Any], path: str) -> None:
        """The thinking we sealed in `encrypted_content`, else the summary text."""
        summary, summary_path = item.get("summary"), at(path, "summary")
        entries = [] if summary is None else fields.array(summary, summary_path)
        texts = [_summary_text(entry, at(summary_path, k)) for k, entry in enumerate(entries)]
        sealed = fields.opt_string(item, "encrypted_content", path)
        if thinking := unseal(sealed) if sealed else None:
            self._push("assistant", [thinking])  # the exact text its signature covers
        elif texts:
            self._push("assistant", [Thinking(text="\n\n".join(texts))])

    def _push(self, role: Role, parts: Sequence[Part]) -> None:
        if not parts:
            return
        last = self.messages[-1] if self.messages else None
        if last is not None and last.role == role:
            self.messages[-1] = Message(role=role, parts=(*last.parts, *parts))
        else:
            self.messages.append(Message(role=role, parts=tuple(parts)))


def _summary_text(entry: object, path: str) -> str:
    return fields.string(fields.obj(entry, path).get("text"), at(path, "text"))


def _part(part: dict[str, Any], path: str) -> list[Text | Media]:
    kind = part["type"]
    if kind in _TEXT:
        text = fields.string(part.get("text"), at(path, "text"))
        return [Text(text=text)] if text else []
    if "file_id" in part and part["file_id"] is not None:
        raise InvalidRequest(
            "file ids are not supported; send the content as a data URL", path=at(path, "file_id")
        )
    if kind == "input_image":
        url_path = at(path, "image_url")
        return [decode_media(fields.string(part.get("image_url"), url_path), url_path, web=True)]
    if kind == "input_file":
        key = "file_url" if part.get("file_data") is None and "file_url" in part else "file_data"
        url = fields.string(part.get(key), at(path, key), nonempty=True)
        return [decode_media(url, at(path, key), web=key == "file_url")]
    return []  # refusal: dropped
