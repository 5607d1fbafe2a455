"""Hub messages -> Gemini `contents` / `systemInstruction`, and which signatures go back upstream.

A signature is replayed only to the family that issued it (docs/upstream.md §8). Thinking
without an own-family signature (unsigned, foreign, or redacted) is dropped for every target,
not turned into text: as text, the model would read its old reasoning as something it said.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import assert_never

from antigravity_gateway.core.messages import (
    Family,
    Media,
    Message,
    Part,
    Signature,
    Text,
    Thinking,
    ToolCall,
    ToolResult,
)

from . import wire

# Google's documented sentinel for a Gemini model turn whose first functionCall has no own
# signature; never sent to Claude (its backend rejects it).
SKIP_SIGNATURE = "skip_thought_signature_validator"


def encode_system(system: Iterable[Text]) -> wire.Content | None:
    """System texts as the Content object v1internal requires (a bare string is a 400)."""
    parts: list[wire.Part] = [{"text": t.text} for t in system if t.text]
    return {"role": "user", "parts": parts} if parts else None


def encode_contents(messages: Iterable[Message], family: Family) -> list[wire.Content]:
    """Roles user/model, consecutive same-role turns merged, no empty parts or turns."""
    contents: list[wire.Content] = []
    for message in messages:
        parts = [p for part in message.parts for p in _encode_part(part, family)]
        role: wire.Role = "model" if message.role == "assistant" else "user"
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    for content in contents:
        content["parts"].sort(key=_rank)
        if content["role"] == "model" and family == "gemini":
            _sign_first_call(content["parts"])
    return contents


def loop_opens_signed(contents: list[wire.Content]) -> bool:
    """Whether Claude may think: when the active tool loop (model turns after the last real user
    message) calls tools, its first model turn must open with a signed thinking part, or the
    backend answers 400. Clients that drop signatures (all OpenAI ones) fail this check."""
    loop: list[wire.Content] = []
    for content in reversed(contents):
        if content["role"] == "model":
            loop.append(content)
        elif any("functionResponse" not in p for p in content["parts"]):
            break
    if not any("functionCall" in p for c in loop for p in c["parts"]):
        return True
    first = loop[-1]["parts"][0]
    return bool(first.get("thought")) and "thoughtSignature" in first


def encode_media(media: Media) -> list[wire.Part]:
    if media.data:
        return [{"inlineData": {"mimeType": media.mime, "data": media.data}}]
    if media.url:
        return [{"fileData": {"mimeType": media.mime, "fileUri": media.url}}]
    return []


def _encode_part(part: Part, family: Family) -> list[wire.Part]:
    match part:
        case Text(text=text, signature=sig):
            own = _own(sig, family)
            return [_signed({"text": text}, own)] if text or own else []
        case Thinking(text=text, signature=sig, redacted=redacted):
            # without an own signature: Claude rejects it, Gemini ignores replayed thought text
            own = _own(sig, family)
            return (
                [] if own is None or redacted else [_signed({"text": text, "thought": True}, own)]
            )
        case Media():
            return encode_media(part)
        case ToolCall(id=id_, name=name, arguments=args, signature=sig):
            call: wire.FunctionCall = {"name": name, "args": args}
            if id_:
                call["id"] = id_
            return [_signed({"functionCall": call}, _own(sig, family))]
        case ToolResult():
            return _tool_result(part)
        case _:
            assert_never(part)


def _tool_result(result: ToolResult) -> list[wire.Part]:
    """A functionResponse; images ride along as inlineData parts (sorted after the responses).

    `is_error` is not sent: no error flag on functionResponse is honoured by both families, and
    the text already says what failed."""
    text = "\n".join(p.text for p in result.content if isinstance(p, Text))
    response: wire.FunctionResponse = {"name": result.name, "response": {"result": text}}
    if result.call_id:
        response["id"] = result.call_id
    media = [p for m in result.content if isinstance(m, Media) for p in encode_media(m)]
    return [{"functionResponse": response}, *media]


def _own(signature: Signature | None, family: Family) -> str | None:
    return signature.value if signature is not None and signature.family == family else None


def _signed(part: wire.Part, signature: str | None) -> wire.Part:
    if signature:
        part["thoughtSignature"] = signature
    return part


def _rank(part: wire.Part) -> int:
    """Thinking first and calls last in a model turn (Claude requires it); function responses
    first in a user turn (they must be contiguous). The sort is stable otherwise."""
    if part.get("thought") or "functionResponse" in part:
        return 0
    return 2 if "functionCall" in part else 1


def _sign_first_call(parts: list[wire.Part]) -> None:
    for part in parts:
        if "functionCall" in part:
            part.setdefault("thoughtSignature", SKIP_SIGNATURE)
            return
