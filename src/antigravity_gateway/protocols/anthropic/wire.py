"""Anthropic Messages shapes we write: the message, its content blocks, stream events, errors.

TypedDicts document and type the encoders' dict literals. Requests are read as plain dicts and
validated field by field (conversation.py, inbound.py), so nothing here vouches for client input.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

StopReason = Literal["end_turn", "max_tokens", "tool_use", "stop_sequence", "refusal"]


class TextBlock(TypedDict):
    type: Literal["text"]
    text: str


class ThinkingBlock(TypedDict):
    type: Literal["thinking"]
    thinking: str
    signature: str


class RedactedThinkingBlock(TypedDict):
    type: Literal["redacted_thinking"]
    data: str


class ToolUseBlock(TypedDict):
    type: Literal["tool_use"]
    id: str
    name: str
    input: dict[str, Any]


ContentBlock = TextBlock | ThinkingBlock | RedactedThinkingBlock | ToolUseBlock


class Usage(TypedDict):
    input_tokens: int  # not counting cache reads, as Anthropic reports it
    output_tokens: int  # thinking included
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    server_tool_use: NotRequired[dict[str, int]]  # {"web_search_requests": n}


class Message(TypedDict):
    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    model: str
    content: list[ContentBlock]
    stop_reason: StopReason | None
    stop_sequence: str | None
    usage: Usage


# --- stream deltas ---------------------------------------------------------------------
class TextDelta(TypedDict):
    type: Literal["text_delta"]
    text: str


class ThinkingDelta(TypedDict):
    type: Literal["thinking_delta"]
    thinking: str


class SignatureDelta(TypedDict):
    type: Literal["signature_delta"]
    signature: str


class InputJsonDelta(TypedDict):
    type: Literal["input_json_delta"]
    partial_json: str


BlockDelta = TextDelta | ThinkingDelta | SignatureDelta | InputJsonDelta


class MessageDelta(TypedDict):
    stop_reason: StopReason
    stop_sequence: str | None


# --- errors and token counts -------------------------------------------------------------
class ErrorDetail(TypedDict):
    type: str
    message: str


class ErrorBody(TypedDict):
    type: Literal["error"]
    error: ErrorDetail


class TokenCount(TypedDict):
    input_tokens: int
