"""Gemini `generateContent`, client-facing: request -> hub; hub -> response, stream chunks, errors.

Gemini-only settings (safetySettings, _NATIVE_TOOLS, _NATIVE_CONFIG) are kept verbatim in
ChatRequest.passthrough for a Gemini upstream; cachedContent, labels and anything else are
dropped. Cheap for big bodies: one pass, inline data stays the base64 string it came as,
JSON-Schema parameters are shared untouched, nothing is re-checked.
"""

from __future__ import annotations

from typing import Any

from antigravity_gateway.core.messages import (
    ChatRequest,
    Effort,
    Family,
    Reasoning,
    Tool,
    ToolChoice,
)
from antigravity_gateway.errors import InvalidRequest
from antigravity_gateway.protocols import fields

from .history import decode_contents, decode_system, pick, spelled
from .modes import SEARCH_TOOL_NAMES
from .replies import Framing, StreamEncoder, encode_error, encode_response, encode_usage

__all__ = [
    "Framing",
    "StreamEncoder",
    "decode_count_request",
    "decode_request",
    "encode_error",
    "encode_response",
    "encode_usage",
]

_NATIVE_TOOLS = ("googleSearch", "googleSearchRetrieval", "codeExecution", "urlContext")
_NATIVE_CONFIG = (
    "seed", "presencePenalty", "frequencyPenalty", "responseModalities", "imageConfig",
    "mediaResolution",
)  # fmt: skip
_LEVELS: dict[str, Effort] = {
    "minimal": "minimal",
    "low": "low",
    "medium": "medium",
    "high": "high",
}
_MODES = ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED")  # proto numbering
# google-generativeai numbers (generativelanguage v1beta); v1internal numbers them differently.
_TYPES = ("TYPE_UNSPECIFIED", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL")
_ENUMS = {
    "category": (
        "HARM_CATEGORY_UNSPECIFIED", "HARM_CATEGORY_DEROGATORY", "HARM_CATEGORY_TOXICITY",
        "HARM_CATEGORY_VIOLENCE", "HARM_CATEGORY_SEXUAL", "HARM_CATEGORY_MEDICAL",
        "HARM_CATEGORY_DANGEROUS", "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH",
        "HARM_CATEGORY_SEXUALLY_EXPLICIT", "HARM_CATEGORY_DANGEROUS_CONTENT",
        "HARM_CATEGORY_CIVIC_INTEGRITY",
    ),
    "threshold": (
        "HARM_BLOCK_THRESHOLD_UNSPECIFIED", "BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE",
        "BLOCK_ONLY_HIGH", "BLOCK_NONE", "OFF",
    ),
    "method": ("HARM_BLOCK_METHOD_UNSPECIFIED", "SEVERITY", "PROBABILITY"),
    "responseModalities": ("MODALITY_UNSPECIFIED", "TEXT", "IMAGE", "AUDIO"),
    "mediaResolution": (
        "MEDIA_RESOLUTION_UNSPECIFIED", "MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM",
        "MEDIA_RESOLUTION_HIGH",
    ),
}  # fmt: skip
_MAX_SCHEMA_DEPTH = 64


def decode_request(
    body: Any, *, model: str, stream: bool = False, family: Family = "gemini", path: str = ""
) -> ChatRequest:
    """A GenerateContentRequest for `model` (from the URL) -> ChatRequest.

    `family` tags the client's thoughtSignatures: the family of the upstream model the request is
    routed to, which issued them. `path` prefixes every JSON path in errors."""
    if not isinstance(body, dict):
        raise InvalidRequest(f"must be a JSON object, got {fields.kind(body)}", path=path)
    contents, contents_path = pick(body, "contents", path)
    system, system_path = pick(body, "systemInstruction", path)
    tools, native_tools = _tools(*pick(body, "tools", path))
    config, config_path = pick(body, "generationConfig", path)
    generation, native = _generation(config, config_path)
    if native_tools:
        native["tools"] = native_tools
    safety, safety_path = pick(body, "safetySettings", path)
    if safety is not None:
        native["safetySettings"] = [
            _enum_names(fields.obj(s, fields.at(safety_path, i)))
            for i, s in enumerate(fields.array(safety, safety_path))
        ]
    return ChatRequest(
        model=model,
        messages=decode_contents(contents, family, contents_path),
        system=decode_system(system, system_path),
        tools=tools,
        tool_choice=_tool_choice(*pick(body, "toolConfig", path)),
        stream=stream,
        passthrough={"gemini": native} if native else {},
        # a googleSearch tool: the answer carries groundingMetadata
        web_search=any(key in tool for tool in native_tools for key in SEARCH_TOOL_NAMES),
        **generation,
    )


def decode_count_request(body: Any, *, model: str, family: Family = "gemini") -> ChatRequest:
    """A countTokens body: `{contents, ...}` or the legacy `{"generateContentRequest": {...}}`."""
    if isinstance(body, dict) and (wrapped := pick(body, "generateContentRequest"))[0] is not None:
        return decode_request(wrapped[0], model=model, family=family, path=wrapped[1])
    return decode_request(body, model=model, family=family)


def _generation(value: object, path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """generationConfig -> (ChatRequest keyword arguments, Gemini-native extras)."""
    if value is None:
        return {}, {}
    config = fields.obj(value, path)
    count, count_path = pick(config, "candidateCount", path)
    if count is not None and count != 1:
        raise InvalidRequest("only candidateCount 1 is supported", path=count_path)
    top_k = fields.opt_number(config, spelled(config, "topK"), path, low=0, high=1e9)
    temperature = fields.opt_number(config, spelled(config, "temperature"), path, low=0, high=2)
    kwargs: dict[str, Any] = {
        "temperature": temperature,
        "top_p": fields.opt_number(config, spelled(config, "topP"), path, low=0, high=1),
        "top_k": None if top_k is None else int(top_k),
        "max_tokens": fields.opt_int(config, spelled(config, "maxOutputTokens"), path, minimum=1),
        "stop": _stops(*pick(config, "stopSequences", path)),
        "reasoning": _reasoning(*pick(config, "thinkingConfig", path)),
        "json_schema": _response_schema(config, path),
    }
    extras = {}
    for key in _NATIVE_CONFIG:
        extra, _ = pick(config, key, path)
        if extra is not None:
            extras[key] = _enum_names({key: extra})[key]
    return kwargs, {"generationConfig": extras} if extras else {}


def _stops(value: object, path: str) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [fields.string(s, fields.at(path, i)) for i, s in enumerate(fields.array(value, path))]
    return tuple(s for s in stops if s)


def _reasoning(value: object, path: str) -> Reasoning | None:
    """thinkingConfig; Gemini shows thoughts only when includeThoughts says so."""
    if value is None:
        return None
    config = fields.obj(value, path)
    include = fields.opt_bool(config, spelled(config, "includeThoughts"), path)
    budget = fields.opt_int(config, spelled(config, "thinkingBudget"), path, minimum=-1)
    level, level_path = pick(config, "thinkingLevel", path)
    effort: Effort | None = None
    if level is not None:
        name = fields.string(level, level_path).lower().removeprefix("thinking_level_")
        if name not in (*_LEVELS, "unspecified"):
            raise InvalidRequest("must be MINIMAL, LOW, MEDIUM or HIGH", path=level_path)
        effort = _LEVELS.get(name)
    return Reasoning(
        effort=effort,
        budget=None if budget == -1 else budget,  # -1: dynamic, the model decides
        include_thoughts=bool(include),
    )


def _response_schema(config: dict[str, Any], path: str) -> dict[str, Any] | None:
    """responseMimeType application/json -> the hub's json_schema ({} = any JSON)."""
    mime, mime_path = pick(config, "responseMimeType", path)
    mime = "" if mime is None else fields.string(mime, mime_path).lower()
    schema, schema_path = pick(config, "responseJsonSchema", path)
    if schema is None and (openapi := pick(config, "responseSchema", path))[0] is not None:
        schema = json_schema(fields.obj(openapi[0], openapi[1]), openapi[1])
    elif schema is not None:
        schema = fields.obj(schema, schema_path)
    if mime == "application/json" or (schema is not None and not mime):
        return schema or {}
    return None


def _tools(value: object, path: str) -> tuple[tuple[Tool, ...], list[dict[str, Any]]]:
    """Function declarations for the hub; the other tool kinds for a Gemini upstream only."""
    if value is None:
        return (), []
    declared: list[Tool] = []
    native: list[dict[str, Any]] = []
    for i, item in enumerate(fields.array(value, path)):
        tool = fields.obj(item, fields.at(path, i))
        decls, decls_path = pick(tool, "functionDeclarations", fields.at(path, i))
        if decls is not None:
            declared += [
                _declaration(fields.obj(d, fields.at(decls_path, j)), fields.at(decls_path, j))
                for j, d in enumerate(fields.array(decls, decls_path))
            ]
        for key in _NATIVE_TOOLS:
            if (extra := pick(tool, key)[0]) is not None:
                native.append({key: extra})
    return tuple(declared), native


def _declaration(decl: dict[str, Any], path: str) -> Tool:
    """`parametersJsonSchema` as is; `parameters` (OpenAPI schema) converted to JSON Schema."""
    name = fields.string(decl.get("name"), fields.at(path, "name"), nonempty=True)
    description = fields.opt_string(decl, "description", path) or ""
    schema, schema_path = pick(decl, "parametersJsonSchema", path)
    if schema is not None:
        parameters = fields.obj(schema, schema_path)
    elif (openapi := pick(decl, "parameters", path))[0] is not None:
        parameters = json_schema(fields.obj(openapi[0], openapi[1]), openapi[1])
    else:
        parameters = {}
    return Tool(name=name, description=description, parameters=parameters)


def _tool_choice(value: object, path: str) -> ToolChoice | None:
    """functionCallingConfig.mode; AUTO and VALIDATED are the default (the upstream codec picks
    VALIDATED where the family needs it)."""
    if value is None:
        return None
    config, config_path = pick(fields.obj(value, path), "functionCallingConfig", path)
    if config is None:
        return None
    config = fields.obj(config, config_path)
    mode, mode_path = pick(config, "mode", config_path)
    if isinstance(mode, int) and not isinstance(mode, bool) and 0 <= mode < len(_MODES):
        mode = _MODES[mode]
    if mode is not None and (not isinstance(mode, str) or mode.upper() not in _MODES):
        raise InvalidRequest("must be AUTO, ANY, NONE or VALIDATED", path=mode_path)
    names, names_path = pick(config, "allowedFunctionNames", config_path)
    allowed = [
        fields.string(n, fields.at(names_path, i))
        for i, n in enumerate(fields.array(names, names_path) if names is not None else [])
    ]
    match (mode or "").upper():
        case "NONE":
            return ToolChoice(mode="none")
        case "ANY" if len(allowed) == 1:
            return ToolChoice(mode="tool", name=allowed[0])
        case "ANY":
            return ToolChoice(mode="required")
    return None


def json_schema(node: dict[str, Any], path: str, depth: int = 0) -> dict[str, Any]:
    """Gemini's OpenAPI-subset Schema -> JSON Schema: lowercase (or numbered) types, `nullable`
    folded into the type; everything else is kept for the upstream codec to clean."""
    if depth > _MAX_SCHEMA_DEPTH:
        raise InvalidRequest(f"is nested deeper than {_MAX_SCHEMA_DEPTH} levels", path=path)
    out: dict[str, Any] = {}
    for key, value in node.items():
        at = fields.at(path, key)
        if key == "type":
            out[key] = _type_name(value, at)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {k: _sub_schema(v, fields.at(at, k), depth) for k, v in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = _sub_schema(value, at, depth)
        elif key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
            out[key] = [_sub_schema(sub, fields.at(at, i), depth) for i, sub in enumerate(value)]
        elif key not in ("nullable", "propertyOrdering"):
            out[key] = value
    if node.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _sub_schema(node: object, path: str, depth: int) -> dict[str, Any]:
    return json_schema(fields.obj(node, path), path, depth + 1)


def _type_name(value: object, path: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < len(_TYPES):
        return _TYPES[value].lower()
    if isinstance(value, str) and value:
        return value.lower()
    raise InvalidRequest("must be a type name such as STRING or OBJECT", path=path)


def _enum_names(body: dict[str, Any]) -> dict[str, Any]:
    """Numbered enum values (google-generativeai's wire form) -> their names."""
    out = dict(body)
    for key, names in _ENUMS.items():
        value = out.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
            out[key] = names[value]
        elif isinstance(value, list):
            out[key] = [
                names[v] if isinstance(v, int) and 0 <= v < len(names) else v for v in value
            ]
    return out
