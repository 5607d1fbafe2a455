"""Bodies made fit for the database: decoded, capped, with every credential scrubbed out.

Runs on the writer thread. A stream's answer is rendered as readable JSON (text, thinking,
tool calls, usage), never raw SSE. Scrubbing replaces the gateway's own secrets and anything
shaped like a key or token (`sk-...`, `ya29....`, refresh tokens `1//...`, `Bearer ...`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import msgspec

from ..core.messages import ChatResponse, Media, Text, Thinking, ToolCall

REDACTED = "[redacted]"
_TOKEN_SHAPES = re.compile(
    r"(?:\bsk-[A-Za-z0-9_\-]{8,}|\bya29\.[A-Za-z0-9_\-.]+|\b1//[A-Za-z0-9_\-]{10,}"
    r"|(?i:bearer)\s+[A-Za-z0-9_\-.=]{8,}|GOCSPX-[A-Za-z0-9_\-]+)"
)
_SECRET_FIELDS = re.compile(
    r'("(?:api_key|apiKey|admin_password|refresh_token|refreshToken|access_token|accessToken'
    r'|authorization|Authorization|x-api-key|client_secret|password)"\s*:\s*)"[^"]*"'
)


# Substrings without which the token patterns cannot match: that regex runs only when one is
# there (a plain `in` is ~50x cheaper than its scan of a whole body). The field pattern starts
# with a literal quote, so its own search is quick: 42 us over 64 KB of JSON, where checking
# seven hints first took 212 us (bench/README.md).
_TOKEN_HINTS = ("sk-", "ya29.", "1//", "earer", "EARER", "GOCSPX-")  # Bearer, bearer, BEARER


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` without any credential: known secrets, key-shaped strings, secret JSON fields."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    if _SECRET_FIELDS.search(text):
        text = _SECRET_FIELDS.sub(rf'\1"{REDACTED}"', text)
    if _may_hold_token(text):
        text = _TOKEN_SHAPES.sub(REDACTED, text)
    return text


def _may_hold_token(text: str) -> bool:
    return any(hint in text for hint in _TOKEN_HINTS)


def scrub_all(texts: list[str], secrets: Iterable[str] = ()) -> list[str]:
    """`scrub` of each text. Most batches of rows hold no credential at all, and a scrub's
    fixed cost (~2 us) outweighs its scan of a small body: the texts are looked through
    together first, and scrubbed one by one only when that found something (what is in one
    text is in all of them joined by a line break: the patterns have no anchors, and a `\b`
    at a text's edge holds beside the line break too)."""
    secrets = [secret for secret in secrets if secret]
    if not _suspect("\n".join(texts), secrets):
        return texts
    return [scrub(text, secrets) for text in texts]


def _suspect(text: str, secrets: list[str]) -> bool:
    """Whether `scrub` would find anything in `text`."""
    return (any(secret in text for secret in secrets)
            or _SECRET_FIELDS.search(text) is not None
            or (_may_hold_token(text) and _TOKEN_SHAPES.search(text) is not None))


def body_text(raw: bytes, limit: int) -> str | None:
    """A body as capped text, not yet scrubbed; None when there is none or bodies are not kept."""
    if not raw or limit <= 0:
        return None
    text = raw.decode("utf-8", errors="replace")
    if "\x00" in text[:1024]:
        return f"[binary body, {len(raw)} bytes]"
    if len(text) > limit:
        return text[:limit] + f"\n[... cut at {limit} characters]"
    return text


def readable(answer: ChatResponse) -> bytes:
    """A stream's assembled answer as JSON: what a reader wants, not the wire frames."""
    thinking = "".join(p.text for p in answer.parts if isinstance(p, Thinking))
    calls = [
        {"id": p.id, "name": p.name, "arguments": p.arguments}
        for p in answer.parts
        if isinstance(p, ToolCall)
    ]
    media = [p.mime for p in answer.parts if isinstance(p, Media)]
    shown: dict[str, object] = {"model": answer.model, "finish_reason": answer.finish_reason}
    if thinking:
        shown["thinking"] = thinking
    shown["text"] = "".join(p.text for p in answer.parts if isinstance(p, Text))
    if calls:
        shown["tool_calls"] = calls
    if media:
        shown["media"] = media
    usage = answer.usage
    shown["usage"] = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_tokens": usage.cached_tokens,
    }
    return msgspec.json.encode(shown)
