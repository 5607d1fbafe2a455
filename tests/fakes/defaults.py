"""What the simulator answers when nothing is scripted, and its token estimate.

Default answer: "Hello from <model>." (plus a thought when thoughts were requested, an image for
image models, a transcript for audio, or a minimal JSON object when a response schema asks for
JSON). Token counts are a deterministic chars/4 estimate, never a real tokenizer.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.catalogue import ModelSpec
from tests.fakes.grounding import TRANSCRIPT, has_audio
from tests.fakes.scripts import Content, RawPart, Text, Thinking

# a 1x1 transparent PNG
PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
STRING_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "email": "x@example.com",
    "uri": "https://example.com/x",
}


def estimate_tokens(text: str) -> int:
    return (len(text) + 3) // 4


def request_text(request: dict[str, Any]) -> str:
    """All text the model would read: contents, system instruction, tool declarations."""
    pieces: list[str] = []
    for content in [*(request.get("contents") or []), request.get("systemInstruction") or {}]:
        for item in content.get("parts") or []:
            for key in ("text", "functionCall", "functionResponse"):
                value = item.get(key)
                if value is not None:
                    pieces.append(
                        value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                    )
    if request.get("tools"):
        pieces.append(json.dumps(request["tools"], sort_keys=True))
    return "\n".join(pieces)


def count_tokens(request: dict[str, Any]) -> int:
    return estimate_tokens(request_text(request))


def default_content(request: dict[str, Any], spec: ModelSpec) -> tuple[Content, ...]:
    config = request.get("generationConfig") or {}
    pieces: list[Content] = []
    if (config.get("thinkingConfig") or {}).get("includeThoughts") and spec.supports_thinking:
        pieces.append(Thinking("Thinking about the answer."))
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if str(config.get("responseMimeType", "")).lower() == "application/json":
        value = minimal_json(schema) if schema else {"answer": f"Hello from {spec.id}."}
        pieces.append(Text(json.dumps(value)))
    elif has_audio(request):
        pieces.append(Text(TRANSCRIPT))
    elif spec.image_output:
        pieces += [
            Text("Here is the image."),
            RawPart({"inlineData": {"mimeType": "image/png", "data": PNG_1X1}}),
        ]
    else:
        pieces.append(Text(f"Hello from {spec.id}."))
    return tuple(pieces)


def minimal_json(schema: Any) -> Any:
    """A small value satisfying `schema` (JSON Schema or Gemini's uppercase OpenAPI subset)."""
    if not isinstance(schema, dict):
        return "x"
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return minimal_json(schema[key][0])
    kind = _schema_type(schema)
    if kind == "object":
        return {name: minimal_json(sub) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        return [
            minimal_json(schema.get("items")) for _ in range(max(1, int(schema.get("minItems", 1))))
        ]
    if kind in ("integer", "number"):
        return max(1, int(schema.get("minimum", 1)))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return STRING_FORMATS.get(
        schema.get("format", ""), "x" * max(1, int(schema.get("minLength", 1)))
    )


def _schema_type(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "null")
    if kind is None:
        return "object" if "properties" in schema else "string"
    return str(kind).lower()
