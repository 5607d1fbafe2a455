"""Gemini `GenerateContentRequest` / `GenerateContentResponse` shapes, as TypedDicts.

Only the subset v1internal accepts and returns (docs/upstream.md §3-§4), in the
lowerCamel spelling we send. They type the encoders' dict literals; decoders read plain dicts with
`match` and never trust these shapes.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

Role = Literal["user", "model"]
CallingMode = Literal["AUTO", "ANY", "NONE", "VALIDATED"]


class InlineData(TypedDict):
    mimeType: str
    data: str  # base64


class FileData(TypedDict):
    mimeType: str
    fileUri: str


class FunctionCall(TypedDict):
    name: str
    args: dict[str, Any]
    id: NotRequired[str]


class FunctionResponse(TypedDict):
    name: str
    response: dict[str, Any]
    id: NotRequired[str]


class Part(TypedDict, total=False):
    text: str
    thought: bool
    thoughtSignature: str  # a sibling of the payload field, never inside functionCall
    functionCall: FunctionCall
    functionResponse: FunctionResponse
    inlineData: InlineData
    fileData: FileData


class Content(TypedDict):
    role: Role
    parts: list[Part]


class FunctionDeclaration(TypedDict):
    name: str
    description: NotRequired[str]
    parameters: NotRequired[dict[str, Any]]


class Tool(TypedDict, total=False):
    functionDeclarations: list[FunctionDeclaration]
    googleSearch: dict[str, Any]
    googleSearchRetrieval: dict[str, Any]
    codeExecution: dict[str, Any]
    urlContext: dict[str, Any]


class FunctionCallingConfig(TypedDict):
    mode: CallingMode
    allowedFunctionNames: NotRequired[list[str]]


class ToolConfig(TypedDict):
    functionCallingConfig: FunctionCallingConfig


class ThinkingConfig(TypedDict, total=False):
    includeThoughts: bool
    thinkingBudget: int
    thinkingLevel: str


class GenerationConfig(TypedDict, total=False):
    temperature: float
    topP: float
    topK: int
    maxOutputTokens: int
    stopSequences: list[str]
    responseMimeType: str
    responseJsonSchema: dict[str, Any]
    thinkingConfig: ThinkingConfig


class GenerateContentRequest(TypedDict, total=False):
    contents: list[Content]
    systemInstruction: Content
    tools: list[Tool]
    toolConfig: ToolConfig
    generationConfig: GenerationConfig
    safetySettings: list[dict[str, Any]]


class Candidate(TypedDict, total=False):
    content: Content
    finishReason: str
    index: int
    groundingMetadata: dict[str, Any]


class UsageMetadata(TypedDict, total=False):
    promptTokenCount: int
    candidatesTokenCount: int
    thoughtsTokenCount: int
    cachedContentTokenCount: int
    totalTokenCount: int


class GenerateContentResponse(TypedDict, total=False):
    candidates: list[Candidate]
    usageMetadata: UsageMetadata
    modelVersion: str
    responseId: str
    promptFeedback: dict[str, Any]
