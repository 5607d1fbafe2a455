"""OpenAI Responses API shapes we write: the response object, its output items, usage.

TypedDicts type the encoders' dict literals. Requests are read as plain dicts with `match` and
validated field by field (inbound.py, items.py, tools.py); these never vouch for client input.
Errors use the Chat Completions envelope (`openai_chat/wire.py`).
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Status = Literal["in_progress", "completed", "incomplete", "failed"]
ItemStatus = Literal["in_progress", "completed", "incomplete"]


class OutputText(TypedDict):
    type: Literal["output_text"]
    text: str
    annotations: list[Any]
    logprobs: list[Any]


class MessageItem(TypedDict):
    id: str
    type: Literal["message"]
    role: Literal["assistant"]
    status: ItemStatus
    content: list[OutputText]


class SummaryText(TypedDict):
    type: Literal["summary_text"]
    text: str


class ReasoningItem(TypedDict):
    id: str
    type: Literal["reasoning"]
    summary: list[SummaryText]
    encrypted_content: NotRequired[str]


class FunctionCallItem(TypedDict):
    id: str
    type: Literal["function_call"]
    status: ItemStatus
    call_id: str
    name: str
    arguments: str  # JSON text
    namespace: NotRequired[str]


class CustomToolCallItem(TypedDict):
    id: str
    type: Literal["custom_tool_call"]
    status: ItemStatus
    call_id: str
    name: str
    input: str
    namespace: NotRequired[str]


class ImageItem(TypedDict):
    id: str
    type: Literal["image_generation_call"]
    status: ItemStatus
    result: str | None  # base64 image


class WebSearchItem(TypedDict):
    id: str
    type: Literal["web_search_call"]
    status: ItemStatus
    action: dict[str, Any]


OutputItem = (
    MessageItem | ReasoningItem | FunctionCallItem | CustomToolCallItem | ImageItem | WebSearchItem
)


class InputTokensDetails(TypedDict):
    cached_tokens: int


class OutputTokensDetails(TypedDict):
    reasoning_tokens: int


class UsageWire(TypedDict):
    input_tokens: int
    input_tokens_details: InputTokensDetails
    output_tokens: int
    output_tokens_details: OutputTokensDetails
    total_tokens: int


class IncompleteDetails(TypedDict):
    reason: Literal["max_output_tokens", "content_filter"]


class ResponseError(TypedDict):
    code: str
    message: str


class ResponseObject(TypedDict):
    """Also carries the echoed request settings (tools, text, reasoning, ...), typed loosely."""

    id: str
    object: Literal["response"]
    created_at: int
    status: Status
    error: ResponseError | None
    incomplete_details: IncompleteDetails | None
    model: str
    output: list[OutputItem]
    usage: UsageWire | None
