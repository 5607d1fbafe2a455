"""A local token count of a hub request, for when the upstream cannot count it.

tiktoken's cl100k_base vocabulary, from the BPE file shipped in this package (`data/`, checked
against tiktoken's published sha256 before use; nothing is downloaded). It is not the upstream's
vocabulary, but BPE vocabularies of this size agree closely on English prose.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable
from importlib import resources

import msgspec
import tiktoken
import tiktoken.load

from ..core.messages import ChatRequest, Media, Part, Text, Thinking, ToolCall, ToolResult

BPE_FILE = "cl100k_base.tiktoken"  # the file tiktoken itself downloads
# The hash tiktoken pins for this file (tiktoken_ext/openai_public.py, `cl100k_base`).
BPE_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
# cl100k_base's split pattern and special tokens, as tiktoken_ext/openai_public.py defines them.
PATTERN = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++"""
           r"""[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""")
SPECIAL_TOKENS = {"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
                  "<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}
PER_MESSAGE = 3  # role and turn delimiters
PER_TOOL = 8  # declaration wrapper around name, description and schema
PER_MEDIA = 1600  # an image of about 1.2 megapixels, as Anthropic counts it


class VocabularyError(RuntimeError):
    """The shipped BPE file is missing or not the one tiktoken publishes."""


def load_ranks(path: str, expected: str = BPE_SHA256) -> dict[bytes, int]:
    """The mergeable ranks of a `.tiktoken` file whose sha256 is `expected`."""
    with open(path, "rb") as fh:
        actual = hashlib.sha256(fh.read()).hexdigest()
    if actual != expected:
        raise VocabularyError(f"{path}: sha256 {actual} is not the expected {expected}")
    return tiktoken.load.load_tiktoken_bpe(path, expected_hash=expected)


@functools.cache
def _encoding() -> tiktoken.Encoding:
    with resources.as_file(resources.files("antigravity_gateway") / "data" / BPE_FILE) as path:
        ranks = load_ranks(str(path))
    return tiktoken.Encoding(name="cl100k_base", pat_str=PATTERN, mergeable_ranks=ranks,
                             special_tokens=SPECIAL_TOKENS)


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
