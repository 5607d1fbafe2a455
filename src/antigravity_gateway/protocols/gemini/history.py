"""A Gemini client's `contents` and `systemInstruction` -> hub messages and system texts.

A thoughtSignature stays on its part, tagged with the family the caller names, in standard
base64. In model turns, a reply replayed chunk by chunk becomes one signed part again.
lowerCamel and snake_case field names are both read, as Google's endpoint accepts both.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec

from antigravity_gateway.core.messages import (
    Family,
    Media,
    Message,
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

# Signature bypass sentinels: dropped here; contents.py adds one back where Gemini needs it.
SENTINELS = frozenset({"skip_thought_signature_validator", "context_engineering_is_the_way_to_go"})
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+={0,2}")
_TO_STANDARD = str.maketrans("-_", "+/")
_ROLES: dict[str, Role] = {"user": "user", "model": "assistant", "function": "user"}
_PAYLOADS = (
    "text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
    "codeExecutionResult",
)  # fmt: skip
_RESULT_KEYS = ("output", "result", "content")


@functools.cache
def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", r"_\1", name).lower()


def spelled(body: dict[str, Any], name: str) -> str:
    """The key the client used for lowerCamel `name`: itself or its snake_case twin."""
    if name in body:
        return name
    snake = _snake(name)
    return snake if snake in body else name


def pick(body: dict[str, Any], name: str, path: str = "") -> tuple[Any, str]:
    """The value under lowerCamel `name` or its snake_case twin, and that value's JSON path."""
    key = spelled(body, name)
    return body.get(key), fields.at(path, key)


def decode_contents(value: object, family: Family, path: str = "contents") -> tuple[Message, ...]:
    """Consecutive contents of one role are one message (google-genai's chat history keeps each
    streamed chunk as its own content)."""
    turns: list[tuple[Role, list[Part]]] = []
    for i, item in enumerate(fields.array(value, path, nonempty=True)):
        content = fields.obj(item, fields.at(path, i))
        role, role_path = pick(content, "role", fields.at(path, i))
        if role is not None and (not isinstance(role, str) or role not in _ROLES):
            raise InvalidRequest('must be "user" or "model"', path=role_path)
        raw_parts, parts_path = pick(content, "parts", fields.at(path, i))
        if not turns or turns[-1][0] != _ROLES[role or "user"]:
            turns.append((_ROLES[role or "user"], []))
        role_now, parts = turns[-1]
        _decode_parts(raw_parts, family, parts_path, parts, merge=role_now == "assistant")
    return tuple(Message(role=role, parts=tuple(parts)) for role, parts in turns if parts)


def decode_system(value: object, path: str) -> tuple[Text, ...]:
    """`systemInstruction`: a Content object (its text parts), or a bare string."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (Text(text=value),) if value else ()
    content = fields.obj(value, path)
    raw_parts, parts_path = pick(content, "parts", path)
    texts = []
    for i, item in enumerate(fields.array(raw_parts, parts_path)):
        part_path = fields.at(parts_path, i)
        if (text := fields.obj(item, part_path).get("text")) is not None:
            texts.append(Text(text=fields.string(text, fields.at(part_path, "text"))))
    return tuple(t for t in texts if t.text)


def _decode_parts(
    value: object, family: Family, path: str, parts: list[Part], *, merge: bool = False
) -> None:
    for i, item in enumerate(fields.array(value, path)):
        part = _decode_part(fields.obj(item, fields.at(path, i)), family, fields.at(path, i))
        if part is not None and not (merge and _merged(parts, part)):
            parts.append(part)


def _decode_part(part: dict[str, Any], family: Family, path: str) -> Part | None:
    raw, sig_path = pick(part, "thoughtSignature", path)
    sig = "" if raw is None else fields.string(raw, sig_path)
    signature = None
    if sig and sig not in SENTINELS:
        signature = Signature(value=canonical(sig), family=family)
    for key in _PAYLOADS:
        value, at = pick(part, key, path)
        if value is None:
            continue
        if key == "text":
            text = fields.string(value, at)
            if part.get("thought") is True:
                return Thinking(text=text, signature=signature)
            return Text(text=text, signature=signature)
        if key == "functionCall":
            return _call(fields.obj(value, at), signature, at)
        if key == "functionResponse":
            return _result(fields.obj(value, at), family, at)
        if key in ("inlineData", "fileData"):
            return _media(fields.obj(value, at), at)
        return _code(key, fields.obj(value, at))
    if signature is None and not sig:
        raise InvalidRequest(f"a part needs one of {', '.join(_PAYLOADS)}", path=path)
    return None if signature is None else Text(text="", signature=signature)


def canonical(signature: str) -> str:
    """google-genai decodes a thoughtSignature to bytes and sends it back URL-safe base64; the
    upstream issued standard base64 and compares strings, so translate back (same bytes)."""
    if ("-" in signature or "_" in signature) and _URL_SAFE.fullmatch(signature):
        return signature.translate(_TO_STANDARD)
    return signature


def _merged(parts: list[Part], part: Part) -> bool:
    """Whether `part` was merged into its unsigned same-kind predecessor (a replayed stream)."""
    last = parts[-1] if parts else None
    if isinstance(last, Text) and isinstance(part, Text) and last.signature is None:
        parts[-1] = Text(text=last.text + part.text, signature=part.signature)
    elif isinstance(last, Thinking) and isinstance(part, Thinking) and last.signature is None:
        parts[-1] = Thinking(text=last.text + part.text, signature=part.signature)
    else:
        return False
    return True


def _call(call: dict[str, Any], signature: Signature | None, path: str) -> ToolCall:
    name = fields.string(call.get("name"), fields.at(path, "name"), nonempty=True)
    args = call.get("args")
    call_id = call.get("id")
    return ToolCall(
        id=fields.string(call_id, fields.at(path, "id")) if call_id is not None else "",
        name=name,
        arguments={} if args is None else fields.obj(args, fields.at(path, "args")),
        signature=signature,
    )


def _result(response: dict[str, Any], family: Family, path: str) -> ToolResult:
    name = fields.string(response.get("name"), fields.at(path, "name"), nonempty=True)
    call_id = response.get("id")
    body = response.get("response")
    body = {} if body is None else fields.obj(body, fields.at(path, "response"))
    is_error = set(body) == {"error"}
    text = _result_text(body)
    content: list[Text | Media] = [Text(text=text)] if text else []
    if (extra := response.get("parts")) is not None:
        parts: list[Part] = []
        _decode_parts(extra, family, fields.at(path, "parts"), parts)
        content += [p for p in parts if isinstance(p, Text | Media)]
    return ToolResult(
        call_id=fields.string(call_id, fields.at(path, "id")) if call_id is not None else "",
        name=name,
        content=tuple(content),
        is_error=is_error,
    )


def _result_text(body: dict[str, Any]) -> str:
    """A lone string result as itself (`{"output": s}`, Gemini CLI), anything else as JSON."""
    if len(body) == 1:
        [(key, value)] = body.items()
        if key in (*_RESULT_KEYS, "error") and isinstance(value, str):
            return value
    return msgspec.json.encode(body).decode() if body else ""


def _media(data: dict[str, Any], path: str) -> Media:
    """inlineData or fileData; base64 data is kept as given."""
    raw_mime, mime_path = pick(data, "mimeType", path)
    mime = fields.string(raw_mime, mime_path) if raw_mime is not None else ""
    uri, uri_path = pick(data, "fileUri", path)
    if uri is not None:
        return Media(mime=mime, url=fields.string(uri, uri_path, nonempty=True))
    return Media(mime=mime, data=fields.string(data.get("data"), fields.at(path, "data")))


def _code(key: str, value: dict[str, Any]) -> Text:
    """Code-execution parts, replayed as plain text (no other family has them)."""
    if key == "executableCode":
        language = str(value.get("language", "")).lower().replace("language_unspecified", "")
        return Text(text=f"```{language}\n{value.get('code', '')}\n```\n")
    return Text(text=str(value.get("output", "")))
