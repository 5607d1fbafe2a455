"""OpenAI chat `messages`, `tools` and `tool_choice` -> hub values, validated path by path.

Roles system/developer -> ChatRequest.system (in order); user; assistant (content, tool_calls);
tool -> ToolResult in a user turn (consecutive tool messages share one). Content parts: text,
image_url (data URL -> inline Media, http(s) -> Media url), input_audio, file (data URL).
Dropped: message `name`, assistant `refusal` / `audio` / `function_call`, image `detail`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

import msgspec

from antigravity_gateway.core.messages import (
    Media,
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

_TEXT, _USER, _ASSISTANT = (
    {"text"},
    {"text", "image_url", "input_audio", "file"},
    {"text", "refusal"},
)
_CHOICES = {mode: ToolChoice(mode=mode) for mode in ("auto", "none", "required")}
# Mime type by URL suffix; anything else is taken for JPEG, as Antigravity Tools does
# (docs/upstream.md §10.5).
_URL_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
}


def decode_messages(value: object) -> tuple[tuple[Text, ...], tuple[Message, ...]]:
    """(system texts, conversation) from `messages`."""
    system: list[Text] = []
    messages: list[Message] = []
    calls: dict[str, str] = {}  # tool call id -> function name, to name the tool results
    for i, item in enumerate(fields.array(value, "messages", nonempty=True)):
        path = at("messages", i)
        msg = fields.obj(item, path)
        content = msg.get("content")
        match msg.get("role"):
            case "system" | "developer":
                system += _texts(content, at(path, "content"))
            case "user":
                _append(messages, "user", _content(content, at(path, "content"), _USER))
            case "assistant":
                _append(messages, "assistant", _assistant(msg, path, calls))
            case "tool":
                add_result(messages, _tool_result(msg, path, calls))
            case None:
                raise InvalidRequest("is required", path=at(path, "role"))
            case role:
                raise InvalidRequest(f"unknown role {role!r}", path=at(path, "role"))
    return tuple(system), tuple(messages)


def decode_tools(value: object) -> tuple[Tool, ...]:
    if value is None:
        return ()
    tools = []
    for i, item in enumerate(fields.array(value, "tools")):
        path = at("tools", i)
        tool = fields.obj(item, path)
        if is_search_tool(tool):
            continue  # the hub's web_search flag (decode_request)
        if tool.get("type") != "function":
            raise InvalidRequest('only "function" tools are supported', path=at(path, "type"))
        path = at(path, "function")
        function = fields.obj(tool.get("function"), path)
        params = function.get("parameters")
        tools.append(
            Tool(
                name=fields.string(function.get("name"), at(path, "name"), nonempty=True),
                description=fields.opt_string(function, "description", path) or "",
                parameters={} if params is None else fields.obj(params, at(path, "parameters")),
            )
        )
    return tuple(tools)


def decode_tool_choice(value: object, tools: tuple[Tool, ...]) -> ToolChoice | None:
    match value:
        case None:
            return None
        case str() as mode if mode in _CHOICES:
            return _CHOICES[mode]
        case {"type": "function", "function": {"name": str() as name}}:
            if name not in {t.name for t in tools}:
                raise InvalidRequest("names no declared tool", path="tool_choice.function.name")
            return ToolChoice(mode="tool", name=name)
    raise InvalidRequest(
        'must be "auto", "none", "required" or {"type": "function", "function": {"name": ...}}',
        path="tool_choice",
    )


def _append(messages: list[Message], role: Role, parts: list[Any]) -> None:
    if parts:  # a turn with nothing in it (empty content) says nothing
        messages.append(Message(role=role, parts=tuple(parts)))


def add_result(messages: list[Message], result: ToolResult) -> None:
    """A tool result joins the user turn of results just before it, else opens one."""
    last = messages[-1] if messages else None
    if last and last.role == "user" and all(isinstance(p, ToolResult) for p in last.parts):
        messages[-1] = Message(role="user", parts=(*last.parts, result))
    else:
        messages.append(Message(role="user", parts=(result,)))


def _assistant(msg: dict[str, Any], path: str, calls: dict[str, str]) -> list[Part]:
    content = msg.get("content")
    parts: list[Part] = (
        [] if content is None else [*_content(content, at(path, "content"), _ASSISTANT)]
    )
    tool_calls = msg.get("tool_calls")
    if tool_calls is None:
        return parts
    for j, item in enumerate(fields.array(tool_calls, at(path, "tool_calls"))):
        call = _tool_call(item, at(at(path, "tool_calls"), j))
        calls[call.id] = call.name
        parts.append(call)
    return parts


def _tool_call(item: object, path: str) -> ToolCall:
    call = fields.obj(item, path)
    if call.get("type", "function") != "function":
        raise InvalidRequest('must be "function"', path=at(path, "type"))
    call_id = fields.string(call.get("id"), at(path, "id"), nonempty=True)
    path = at(path, "function")
    function = fields.obj(call.get("function"), path)
    name = fields.string(function.get("name"), at(path, "name"), nonempty=True)
    arguments = decode_arguments(function.get("arguments"), at(path, "arguments"))
    return ToolCall(id=call_id, name=name, arguments=arguments)


def decode_arguments(value: object, path: str) -> dict[str, Any]:
    """Tool-call arguments: a string holding a JSON object (empty means `{}`)."""
    text = fields.string(value, path)
    try:
        arguments = msgspec.json.decode(text) if text.strip() else {}
    except (msgspec.DecodeError, RecursionError) as exc:
        raise InvalidRequest(f"is not valid JSON ({exc})", path=path) from None
    if not isinstance(arguments, dict):
        raise InvalidRequest("must encode a JSON object", path=path)
    return arguments


def _tool_result(msg: dict[str, Any], path: str, calls: dict[str, str]) -> ToolResult:
    call_id = fields.string(msg.get("tool_call_id"), at(path, "tool_call_id"), nonempty=True)
    if call_id not in calls:  # OpenAI itself rejects this too
        raise InvalidRequest(
            "matches no earlier assistant tool call", path=at(path, "tool_call_id")
        )
    content = tuple(_texts(msg.get("content"), at(path, "content")))
    return ToolResult(call_id=call_id, name=calls[call_id], content=content)


def _texts(value: object, path: str) -> list[Text]:
    return [p for p in _content(value, path, _TEXT) if isinstance(p, Text)]


def _content(value: object, path: str, allowed: Collection[str]) -> list[Text | Media]:
    return decode_parts(value, path, allowed, _part)


PartDecoder = Callable[[dict[str, Any], str], list[Text | Media]]


def decode_parts(
    value: object, path: str, allowed: Collection[str], decode: PartDecoder
) -> list[Text | Media]:
    """A string, or an array of parts whose `type` is in `allowed`, each read by `decode`
    (called with the part and its path); empty strings are dropped."""
    if isinstance(value, str):
        return [Text(text=value)] if value else []
    parts: list[Text | Media] = []
    for k, item in enumerate(fields.array(value, path)):
        part_path = at(path, k)
        part = fields.obj(item, part_path)
        kind = part.get("type")
        if not isinstance(kind, str) or kind not in allowed:
            raise InvalidRequest(
                f"unsupported content part type {kind!r}", path=at(part_path, "type")
            )
        parts += decode(part, part_path)
    return parts


def _part(part: dict[str, Any], path: str) -> list[Text | Media]:
    match part["type"]:
        case "text":
            text = fields.string(part.get("text"), at(path, "text"))
            return [Text(text=text)] if text else []
        case "image_url":
            image = part.get("image_url")
            url_path = at(path, "image_url")
            if isinstance(image, dict):
                image, url_path = image.get("url"), at(url_path, "url")
            return [decode_media(fields.string(image, url_path), url_path, web=True)]
        case "input_audio":
            audio = fields.obj(part.get("input_audio"), at(path, "input_audio"))
            fmt = fields.string(audio.get("format"), at(path, "input_audio.format"), nonempty=True)
            data = fields.string(audio.get("data"), at(path, "input_audio.data"), nonempty=True)
            return [Media(mime=f"audio/{fmt}", data=data)]
        case "file":
            file = fields.obj(part.get("file"), at(path, "file"))
            data_path = at(path, "file.file_data")
            data = fields.string(file.get("file_data"), data_path)
            return [decode_media(data, data_path, web=False)]
    return []  # refusal: dropped


def decode_media(url: str, path: str, *, web: bool) -> Media:
    """A base64 data URL -> inline Media; with `web`, an http(s) URL -> Media by reference."""
    if url.startswith("data:"):
        header, comma, data = url[5:].partition(",")
        mime, _, encoding = header.partition(";")
        if comma and encoding == "base64" and mime and data:
            return Media(mime=mime, data=data)
        raise InvalidRequest("must be a base64 data URL (data:<mime>;base64,<data>)", path=path)
    if web and url.startswith(("http://", "https://")):
        suffix = "." + url.split("?", 1)[0].rsplit(".", 1)[-1].lower()
        return Media(mime=_URL_MIME.get(suffix, "image/jpeg"), url=url)
    raise InvalidRequest(
        "must be an http(s) URL or a base64 data URL" if web else "must be a base64 data URL",
        path=path,
    )
