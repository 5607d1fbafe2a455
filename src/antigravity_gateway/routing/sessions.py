"""The session id of a conversation: the pool's sticky key and Cloud Code's `sessionId`. Pure."""

from __future__ import annotations

import functools
import hashlib

from ..core.messages import ChatRequest, Message, Text


def session_id_of(req: ChatRequest) -> str:
    """A stable session id (upstream `sessionId`, sticky key): the client's session key, else
    the text of the conversation's first user message."""
    seed = req.session_key or _first_user_text(req.messages)
    return _digest(seed) if seed else ""


@functools.lru_cache(maxsize=64)  # a conversation's every turn and a request's two lookups hit
def _digest(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "-" + str(int.from_bytes(digest[:8], "big") >> 1)


def _first_user_text(messages: tuple[Message, ...]) -> str:
    """All text of the first user message that has any (a leading reminder alone is no key)."""
    for message in messages:
        if message.role == "user":
            text = "\n".join(p.text for p in message.parts if isinstance(p, Text) and p.text)
            if text:
                return text
    return ""
