"""Anthropic content blocks -> hub parts, and the family tag our thinking signatures carry.

Dropped on the way in: `cache_control`, `citations`, a document's `title`/`context`, and the
server-side blocks in SERVER_BLOCKS. A `file` source (Files API) is a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from antigravity_gateway.core.messages import (
    Family,
    Media,
    Part,
    Role,
    Signature,
    Text,
    Thinking,
    ToolCall,
    ToolResult,
)
from antigravity_gateway.errors import InvalidRequest
from antigravity_gateway.protocols import fields
from antigravity_gateway.protocols.fields import at

# Blocks that ran on Anthropic's servers: they mean nothing upstream, so they are dropped.
SERVER_BLOCKS = frozenset(
    {
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "mcp_tool_use",
        "mcp_tool_result",
        "container_upload",
    }
)
ALLOWED: dict[Role, frozenset[str]] = {
    "user": frozenset({"text", "image", "document", "search_result", "tool_result"}),
    "assistant": frozenset({"text", "thinking", "redacted_thinking", "tool_use"}),
}
_RESULT_BLOCKS = frozenset({"text", "image", "document", "search_result"})
_DOCUMENT_BLOCKS = frozenset({"text", "image"})
_FAMILIES: dict[str, Family] = {"claude": "claude", "gemini": "gemini", "other": "other"}
_URL_MIME = {
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".pdf": "application/pdf",
}
_KNOWN = ALLOWED["user"] | ALLOWED["assistant"]


def encode_signature(signature: Signature) -> str:
    """`<family>#<upstream signature>`: opaque to the client, it tells us whom to send it back to
    (a signature is only valid for the family that issued it, docs/upstream.md §8)."""
    return f"{signature.family}#{signature.value}"


def decode_signature(value: str) -> Signature | None:
    """Our tagged form; an untagged signature came from Anthropic itself, so it is Claude's."""
    if not value:
        return None
    family, sep, raw = value.partition("#")
    if sep and raw and family in _FAMILIES:
        return Signature(value=raw, family=_FAMILIES[family])
    return Signature(value=value, family="claude")


def decode_block(block: object, path: str, role: Role, calls: Mapping[str, str]) -> list[Part]:
    """One block of a `role` message; `calls` names the tool_use ids seen so far."""
    item = fields.obj(block, path)
    kind = item.get("type")
    if not isinstance(kind, str):
        raise InvalidRequest(f"must be a string, got {fields.kind(kind)}", path=at(path, "type"))
    if kind in SERVER_BLOCKS:
        return []
    if kind not in ALLOWED[role]:
        where = f" in a {role} message" if kind in _KNOWN else ""
        message = f"unsupported content block type {kind!r}{where}"
        raise InvalidRequest(message, path=at(path, "type"))
    match kind:
        case "tool_use":
            return [_tool_use(item, path)]
        case "tool_result":
            return [_tool_result(item, path, calls)]
        case "thinking":
            text = fields.string(item.get("thinking"), at(path, "thinking"))
            signature = fields.opt_string(item, "signature", path) or ""
            return [Thinking(text=text, signature=decode_signature(signature))]
        case "redacted_thinking":
            data = fields.string(item.get("data"), at(path, "data"), nonempty=True)
            return [Thinking(text=data, redacted=True)]
    return list(_content(item, path))


def _content(item: dict[str, Any], path: str) -> list[Text | Media]:
    """text, image, document and search_result blocks (also used inside tool results)."""
    match item["type"]:
        case "text":
            text = fields.string(item.get("text"), at(path, "text"))
            return [Text(text=text)] if text else []
        case "image":
            return [_source(item.get("source"), at(path, "source"), image=True)]
        case "document":
            return _document(item, path)
    return _search_result(item, path)


def _tool_use(item: dict[str, Any], path: str) -> ToolCall:
    return ToolCall(
        id=fields.string(item.get("id"), at(path, "id"), nonempty=True),
        name=fields.string(item.get("name"), at(path, "name"), nonempty=True),
        arguments=fields.obj(item.get("input"), at(path, "input")),
    )


def _tool_result(item: dict[str, Any], path: str, calls: Mapping[str, str]) -> ToolResult:
    call_id = fields.string(item.get("tool_use_id"), at(path, "tool_use_id"), nonempty=True)
    return ToolResult(
        call_id=call_id,
        name=calls.get(call_id, ""),
        content=tuple(_nested(item.get("content"), at(path, "content"), _RESULT_BLOCKS)),
        is_error=bool(fields.opt_bool(item, "is_error", path)),
    )


def _nested(content: object, path: str, allowed: frozenset[str]) -> list[Text | Media]:
    """The content of a tool_result or of a document: a string or an array of blocks."""
    if content is None:
        return []
    if isinstance(content, str):
        return [Text(text=content)] if content else []
    parts: list[Text | Media] = []
    for k, block in enumerate(fields.array(content, path)):
        inner = fields.obj(block, at(path, k))
        if not isinstance(kind := inner.get("type"), str) or kind not in allowed:
            raise InvalidRequest(
                f"unsupported content block type {kind!r} here",
                path=at(at(path, k), "type"),
            )
        parts += _content(inner, at(path, k))
    return parts


def _document(item: dict[str, Any], path: str) -> list[Text | Media]:
    source_path = at(path, "source")
    source = fields.obj(item.get("source"), source_path)
    match source.get("type"):
        case "text":
            data = fields.string(source.get("data"), at(source_path, "data"))
            return [Text(text=data)] if data else []
        case "content":
            return _nested(source.get("content"), at(source_path, "content"), _DOCUMENT_BLOCKS)
    return [_source(source, source_path, image=False)]


def _search_result(item: dict[str, Any], path: str) -> list[Text | Media]:
    """A search result the client supplies: its title, source and text, as one text part."""
    found = _nested(item.get("content"), at(path, "content"), frozenset({"text"}))
    title = fields.opt_string(item, "title", path) or ""
    source = fields.opt_string(item, "source", path) or ""
    texts = [title, source, *(p.text for p in found if isinstance(p, Text))]
    body = "\n".join(t for t in texts if t)
    return [Text(text=body)] if body else []


def _source(value: object, path: str, *, image: bool) -> Media:
    source = fields.obj(value, path)
    match source.get("type"):
        case "base64":
            mime = fields.string(source.get("media_type"), at(path, "media_type"), nonempty=True)
            data = fields.string(source.get("data"), at(path, "data"), nonempty=True)
            return Media(mime=mime, data=data)
        case "url":
            url = fields.string(source.get("url"), at(path, "url"), nonempty=True)
            if not url.startswith(("http://", "https://")):
                raise InvalidRequest("must be an http(s) URL", path=at(path, "url"))
            suffix = "." + url.split("?", 1)[0].rsplit(".", 1)[-1].lower()
            default = "image/jpeg" if image else "application/pdf"
            return Media(mime=_URL_MIME.get(suffix, default), url=url)
        case "file":
            raise InvalidRequest("file sources (the Files API) are not supported", path=path)
    kinds = '"base64" or "url"' if image else '"base64", "url", "text" or "content"'
    raise InvalidRequest(f"must be {kinds}", path=at(path, "type"))
