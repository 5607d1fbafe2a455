"""OpenAI Chat Completions shapes: the request we read, the response and chunks we write.

TypedDicts document and type the encoders' dict literals; the decoder reads plain dicts with
`match` and validates every field itself (inbound.py), so these never vouch for client input.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


# --- request (what clients send; only the fields we read) ---------------------------------
class FunctionCallWire(TypedDict):
    name: str
    arguments: str  # JSON text


class ToolCallWire(TypedDict):
    id: str
    type: Literal["function"]
    function: FunctionCallWire


class MessageWire(TypedDict, total=False):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None
    tool_calls: list[ToolCallWire]
    tool_call_id: str


class FunctionWire(TypedDict):
    name: str
    description: NotRequired[str]
    parameters: NotRequired[dict[str, Any]]


class ToolWire(TypedDict):
    type: Literal["function"]
    function: FunctionWire


class ChatCompletionRequest(TypedDict, total=False):
    model: str
    messages: list[MessageWire]
    tools: list[ToolWire]
    tool_choice: str | dict[str, Any]
    temperature: float
    top_p: float
    max_tokens: int
    max_completion_tokens: int
    stop: str | list[str]
    stream: bool
    stream_options: dict[str, bool]
    response_format: dict[str, Any]
    reasoning_effort: str
    user: str
    n: int


# --- response ---------------------------------------------------------------------------
class ResponseMessage(TypedDict):
    role: Literal["assistant"]
    content: str | None
    reasoning_content: NotRequired[str]
    tool_calls: NotRequired[list[ToolCallWire]]
    annotations: NotRequired[list[dict[str, Any]]]  # url_citation, for web search answers


class Choice(TypedDict):
    index: int
    message: ResponseMessage
    logprobs: None
    finish_reason: FinishReason


class CompletionTokensDetails(TypedDict):
    reasoning_tokens: int


class PromptTokensDetails(TypedDict):
    cached_tokens: int


class UsageWire(TypedDict):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    completion_tokens_details: CompletionTokensDetails
    prompt_tokens_details: PromptTokensDetails


class ChatCompletion(TypedDict):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[Choice]
    usage: UsageWire


# --- stream -----------------------------------------------------------------------------
class ToolCallDelta(TypedDict):
    index: int
    id: NotRequired[str]
    type: NotRequired[Literal["function"]]
    function: dict[str, str]  # {"name", "arguments"} first, then {"arguments"} fragments


class Delta(TypedDict, total=False):
    role: Literal["assistant"]
    content: str
    reasoning_content: str
    tool_calls: list[ToolCallDelta]


class ChunkChoice(TypedDict):
    index: int
    delta: Delta
    logprobs: None
    finish_reason: FinishReason | None


class ChatCompletionChunk(TypedDict):
    id: str
    object: Literal["chat.completion.chunk"]
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: NotRequired[UsageWire]


# --- legacy completions (/v1/completions) -----------------------------------------------
CompletionFinish = Literal["stop", "length", "content_filter"]


class TextChoice(TypedDict):
    text: str
    index: int
    logprobs: None
    finish_reason: CompletionFinish | None


class TextCompletion(TypedDict):
    id: str
    object: Literal["text_completion"]
    created: int
    model: str
    choices: list[TextChoice]
    usage: NotRequired[UsageWire]


# --- errors -----------------------------------------------------------------------------
class ErrorDetail(TypedDict):
    message: str
    type: str
    code: str | None
    param: str | None


class ErrorBody(TypedDict):
    error: ErrorDetail
