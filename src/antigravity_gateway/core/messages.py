"""The hub: a neutral model of a chat request and its response; no IO, no imports from the gateway.

Every inbound protocol decodes into these values and every upstream codec encodes from them.
Frozen msgspec Structs with tuples: safe to share, cheap to build (a request builds ~20; a frozen
dataclass costs 0.4-2 us each, a Struct under 0.1: bench/README.md). A field enters the hub only
when two protocols have it; the rest is dropped at decode time, listed in that codec's docstring.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

Role = Literal["user", "assistant"]
FinishReason = Literal["stop", "length", "tool_use", "stop_sequence", "content_filter", "error"]
ToolChoiceMode = Literal["auto", "none", "required", "tool"]
Effort = Literal["none", "minimal", "low", "medium", "high"]
Family = Literal["gemini", "claude", "other"]


class Signature(msgspec.Struct, frozen=True, kw_only=True):
    """An opaque upstream signature, tagged with the model family that issued it."""

    value: str
    family: Family


class Text(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    signature: Signature | None = None


class Media(msgspec.Struct, frozen=True, kw_only=True):
    """An image or document: inline bytes (base64 kept as given) or a URL."""

    mime: str
    data: str = ""  # base64
    url: str = ""


class Thinking(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    signature: Signature | None = None
    redacted: bool = False


class ToolCall(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    arguments: dict[str, Any]
    signature: Signature | None = None


class ToolResult(msgspec.Struct, frozen=True, kw_only=True):
    call_id: str
    name: str
    content: tuple[Text | Media, ...]
    is_error: bool = False


Part = Text | Media | Thinking | ToolCall | ToolResult


class Message(msgspec.Struct, frozen=True, kw_only=True):
    role: Role
    parts: tuple[Part, ...]


class Tool(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    description: str = ""
    parameters: dict[str, Any] = msgspec.field(default_factory=dict)  # JSON Schema of the arguments


class ToolChoice(msgspec.Struct, frozen=True, kw_only=True):
    mode: ToolChoiceMode = "auto"
    name: str = ""  # when mode == "tool"


class Reasoning(msgspec.Struct, frozen=True, kw_only=True):
    """Thinking request: an effort level, an explicit token budget, or both unset (default)."""

    effort: Effort | None = None
    budget: int | None = None
    include_thoughts: bool = True


class ImageOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How a generated image should look (OpenAI's size/quality, Gemini's imageConfig)."""

    aspect_ratio: str = ""  # "16:9"; "" lets the model choose
    size: str = ""  # "1K" | "2K" | "4K"; "" lets the model choose


class ChatRequest(msgspec.Struct, frozen=True, kw_only=True):
    model: str  # the client's model name, before mapping
    messages: tuple[Message, ...]
    system: tuple[Text, ...] = ()
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: tuple[str, ...] = ()
    reasoning: Reasoning | None = None
    json_schema: dict[str, Any] | None = None  # {} means "any JSON object"
    stream: bool = False
    session_key: str = ""
    web_search: bool = False  # ground the answer with a web search
    image: ImageOptions | None = None  # for image models
    # Wire fields with no hub equivalent, kept verbatim for an upstream codec of the same wire
    # format, keyed by format (e.g. "gemini": safetySettings, seed); other codecs ignore them.
    passthrough: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)


class Usage(msgspec.Struct, frozen=True, kw_only=True):
    input_tokens: int = 0
    output_tokens: int = 0  # includes reasoning tokens
    reasoning_tokens: int = 0
    cached_tokens: int = 0  # a subset of input_tokens

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class Source(msgspec.Struct, frozen=True, kw_only=True):
    """A web page a grounded answer drew on."""

    url: str
    title: str = ""


class Citation(msgspec.Struct, frozen=True, kw_only=True):
    """Characters [start, end) of the answer's text (its Text parts joined) backed by
    `sources` (indices into `Grounding.sources`)."""

    start: int
    end: int
    text: str
    sources: tuple[int, ...]


class Grounding(msgspec.Struct, frozen=True, kw_only=True):
    """What a web search contributed to an answer: the queries, the pages, the cited spans."""

    queries: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    citations: tuple[Citation, ...] = ()
    # the upstream's own record (Gemini groundingMetadata) for a client of that same wire format
    native: dict[str, Any] = msgspec.field(default_factory=dict)


class ChatResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    model: str  # the upstream model that answered
    parts: tuple[Text | Thinking | ToolCall | Media, ...]
    finish_reason: FinishReason
    usage: Usage = Usage()
    grounding: Grounding | None = None

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, Text))
