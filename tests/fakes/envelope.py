"""Proto-JSON style parsing of v1internal request envelopes (docs/upstream.md §3).

`normalize()` walks the known message types, accepts camelCase and snake_case field names, rejects
unknown fields (400 INVALID_ARGUMENT) and returns a camelCase copy; opaque values (args, schemas,
labels ...) are copied untouched. `validate_generate()` then applies the semantic rules.
Deliberately not modelled: enum value checks, field type checks beyond object/list shape.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.catalogue import ModelSpec
from tests.fakes.errors import FaultError, anthropic_error, invalid_argument

_REQUEST = {
    "contents": "Content[]",
    "systemInstruction": "Content",
    "tools": "Tool[]",
    "toolConfig": "ToolConfig",
    "generationConfig": "GenerationConfig",
    "safetySettings": None,
    "sessionId": None,
    "cachedContent": None,
    "labels": None,
}
_ENVELOPE_COMMON = {
    "requestId": None,
    "requestType": None,
    "userAgent": None,
    "userPromptId": None,
    "enabledCreditTypes": None,
}

# message type -> {camelCase field: nested message type (suffix [] = repeated) or None (opaque)}
MESSAGES: dict[str, dict[str, str | None]] = {
    "Envelope": {"model": None, "project": None, "request": "Request", **_ENVELOPE_COMMON},
    "Request": _REQUEST,
    "CountEnvelope": {"request": "CountRequest", **_ENVELOPE_COMMON},
    "CountRequest": {**{k: v for k, v in _REQUEST.items() if k != "safetySettings"}, "model": None},
    "Content": {"role": None, "parts": "Part[]"},
    "Part": {
        "text": None,
        "thought": None,
        "thoughtSignature": None,
        "functionCall": None,
        "functionResponse": None,
        "inlineData": "Blob",
        "fileData": "FileData",
        "executableCode": None,
        "codeExecutionResult": None,
        "videoMetadata": None,
        "partMetadata": None,
    },
    "Blob": {"mimeType": None, "data": None, "displayName": None},
    "FileData": {"mimeType": None, "fileUri": None, "displayName": None},
    "Tool": {
        "functionDeclarations": "FunctionDeclaration[]",
        "googleSearch": None,
        "googleSearchRetrieval": None,
        "codeExecution": None,
        "urlContext": None,
        "computerUse": None,
        "retrieval": None,
        "enterpriseWebSearch": None,
    },
    "FunctionDeclaration": {
        "name": None,
        "description": None,
        "parameters": None,
        "parametersJsonSchema": None,
        "response": None,
        "responseJsonSchema": None,
        "behavior": None,
    },
    "ToolConfig": {
        "functionCallingConfig": None,
        "retrievalConfig": None,
        "includeServerSideToolInvocations": None,
    },
    "GenerationConfig": {
        "temperature": None,
        "topP": None,
        "topK": None,
        "candidateCount": None,
        "maxOutputTokens": None,
        "stopSequences": None,
        "responseMimeType": None,
        "responseSchema": None,
        "responseJsonSchema": None,
        "responseModalities": None,
        "thinkingConfig": "ThinkingConfig",
        "imageConfig": None,
        "presencePenalty": None,
        "frequencyPenalty": None,
        "seed": None,
        "responseLogprobs": None,
        "logprobs": None,
        "mediaResolution": None,
        "speechConfig": None,
    },
    "ThinkingConfig": {"includeThoughts": None, "thinkingBudget": None, "thinkingLevel": None},
}
DATA_FIELDS = (
    "text",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
)
FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")
FORBIDDEN_SCHEMA_KEYS = ("const", "$ref", "$defs", "$schema")
SIGNATURE_SENTINELS = ("skip_thought_signature_validator", "context_engineering_is_the_way_to_go")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def normalize(value: Any, kind: str, path: str) -> dict[str, Any]:
    """A camelCase copy of `value` read as message `kind`; raises FaultError on unknown fields."""
    if not isinstance(value, dict):
        raise FaultError(
            invalid_argument(f"Invalid value at '{path}' ({kind}), {_short(value)}", path)
        )
    fields = MESSAGES[kind]
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = camel(key)
        if name not in fields:
            where = f" at '{path}'" if path else ""
            message = (
                f'Invalid JSON payload received. Unknown name "{key}"{where}: Cannot find field.'
            )
            raise FaultError(invalid_argument(message, path or key))
        out[name] = _normalize_field(item, fields[name], _join(path, snake(name)))
    return out


def _normalize_field(item: Any, kind: str | None, path: str) -> Any:
    if kind is None or item is None:
        return item
    if not kind.endswith("[]"):
        return normalize(item, kind, path)
    if not isinstance(item, list):
        raise FaultError(
            invalid_argument(f"Invalid value at '{path}' ({kind}), {_short(item)}", path)
        )
    return [normalize(element, kind[:-2], f"{path}[{index}]") for index, element in enumerate(item)]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def validate_generate(request: dict[str, Any], spec: ModelSpec) -> None:
    """Semantic checks on a normalized `request` for target model `spec`."""
    contents = request.get("contents") or []
    if not contents:
        raise FaultError(
            invalid_argument("* GenerateContentRequest.contents: contents is not specified\n")
        )
    for index, content in enumerate(contents):
        _check_content(content, index, spec)
    if request.get("systemInstruction") is not None:
        _check_content(request["systemInstruction"], None, spec)
    for index, tool in enumerate(request.get("tools") or []):
        _check_tool(tool, index)
    _check_tool_mix(request.get("tools") or [])
    _check_generation_config(request.get("generationConfig") or {}, spec)
    if spec.is_claude:
        check_claude_tool_pairing(contents)


def _check_content(content: dict[str, Any], index: int | None, spec: ModelSpec) -> None:
    path = "system_instruction" if index is None else f"contents[{index}]"
    role = content.get("role")
    if role not in (None, "", "user", "model"):
        raise FaultError(
            invalid_argument(f"Please use a valid role: user, model. (got {role!r} at {path})")
        )
    parts = content.get("parts") or []
    if not parts:
        raise FaultError(
            invalid_argument(
                f"* GenerateContentRequest.{path}.parts: contents.parts must not be empty.\n"
            )
        )
    for number, item in enumerate(parts):
        present = [name for name in DATA_FIELDS if item.get(name) is not None]
        if len(present) != 1:
            message = "required oneof field 'data' must have one initialized field"
            raise FaultError(invalid_argument(message, f"request.{path}.parts[{number}]"))
        if spec.is_claude and present == ["text"] and item["text"] == "":
            where = "system" if index is None else f"messages.{index}.content.{number}"
            raise FaultError(anthropic_error(f"{where}: text content blocks must be non-empty"))


def _check_tool_mix(tools: list[dict[str, Any]]) -> None:
    """googleSearch / urlContext cannot be combined with functions (§6.2)."""
    functions = any(t.get("functionDeclarations") for t in tools)
    builtin = any(t.get(k) is not None for t in tools for k in ("googleSearch", "urlContext"))
    if functions and builtin:
        message = "Built-in tools ({google_search}) and Function Calling cannot be combined."
        raise FaultError(invalid_argument(message))


def _check_tool(tool: dict[str, Any], index: int) -> None:
    for number, declaration in enumerate(tool.get("functionDeclarations") or []):
        path = f"tools[{index}].function_declarations[{number}]"
        if not FUNCTION_NAME.match(str(declaration.get("name", ""))):
            message = (
                f"* GenerateContentRequest.{path}.name: Invalid function name. Must start with a "
                "letter or an "
                "underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and "
                "dashes, with a maximum "
                "length of 64.\n"
            )
            raise FaultError(invalid_argument(message))
        for key in ("parameters", "parametersJsonSchema"):
            _check_schema(declaration.get(key), f"request.{path}.{snake(key)}")


def _check_schema(schema: Any, path: str) -> None:
    if isinstance(schema, list):
        for index, item in enumerate(schema):
            _check_schema(item, f"{path}[{index}]")
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key in FORBIDDEN_SCHEMA_KEYS:
            message = (
                f"Invalid JSON payload received. Unknown name \"{key}\" at '{path}': "
                "Cannot find field."
            )
            raise FaultError(invalid_argument(message, path))
        if key == "properties" and isinstance(value, dict):
            for name, sub in value.items():
                _check_schema(sub, f"{path}.properties[{name}]")
        else:
            _check_schema(value, f"{path}.{key}")


def _check_generation_config(config: dict[str, Any], spec: ModelSpec) -> None:
    max_out = config.get("maxOutputTokens")
    if max_out is not None and int(max_out) > spec.max_output_tokens:
        message = (
            f"Unable to submit request because it has a maxOutputTokens value of {max_out} but "
            "the supported range "
            f"is from 1 (inclusive) to {spec.max_output_tokens + 1} (exclusive). Update the value "
            "and try again."
        )
        raise FaultError(invalid_argument(message))
    thinking = config.get("thinkingConfig") or {}
    _check_budget(thinking.get("thinkingBudget"), max_out, spec)
    level = thinking.get("thinkingLevel")
    if (
        level is not None
        and spec.thinking_levels is not None
        and str(level).lower() not in spec.thinking_levels
    ):
        raise FaultError(
            invalid_argument(f"Thinking level {level} is not supported for this model.")
        )


def _check_budget(budget: Any, max_out: Any, spec: ModelSpec) -> None:
    if budget is None or int(budget) <= 0:
        return
    if max_out is not None and int(budget) >= int(max_out):
        if spec.is_claude:
            raise FaultError(
                anthropic_error("`max_tokens` must be greater than `thinking.budget_tokens`.")
            )
        raise FaultError(invalid_argument("The thinking budget must be less than maxOutputTokens."))
    if spec.is_claude and int(budget) < 1024:
        raise FaultError(
            anthropic_error("thinking.budget_tokens: Input should be greater than or equal to 1024")
        )


def check_claude_tool_pairing(contents: list[dict[str, Any]]) -> None:
    """Each functionCall id must be answered by a functionResponse in the next turn, and back."""
    ids = [_ids(content, "functionCall") for content in contents] + [[]]
    answers = [_ids(content, "functionResponse") for content in contents] + [[]]
    for index in range(len(contents)):
        stray = [
            i for i in answers[index] if i is None or i not in (ids[index - 1] if index else [])
        ]
        if stray:
            raise FaultError(
                anthropic_error(
                    f"messages.{index}.content.0: unexpected `tool_use_id` found in `tool_result` "
                    f"blocks: {stray[0]}. "
                    "Each `tool_result` block must have a corresponding `tool_use` block in the "
                    "previous message."
                )
            )
        missing = [i for i in ids[index] if i is None or i not in answers[index + 1]]
        if missing and index + 1 < len(contents):
            raise FaultError(
                anthropic_error(
                    f"messages.{index}: `tool_use` ids were found without `tool_result` blocks "
                    "immediately after: "
                    f"{missing[0]}. Each `tool_use` block must have a corresponding `tool_result` "
                    "block "
                    "in the next message."
                )
            )


def _ids(content: dict[str, Any], kind: str) -> list[str | None]:
    return [
        part[kind].get("id")
        for part in content.get("parts", [])
        if isinstance(part.get(kind), dict)
    ]
