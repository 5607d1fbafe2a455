"""JSON Schema -> the schema subset v1internal accepts in `functionDeclarations[].parameters`.

Inlines local `$ref`s, merges `allOf`, keeps the first non-null branch of `anyOf`/`oneOf` and
of a `type` list (plus `nullable`), and moves constraints into the description. Every other
keyword ($schema, $defs, additionalProperties, title, ...) is dropped (docs/upstream.md §7.2).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# Claude in VALIDATED mode rejects an object schema without properties (CPA/OAA sanitizers): a
# parameterless tool gets this optional-looking boolean, and the decoder strips it from the args.
PLACEHOLDER = "_placeholder"
_PLACEHOLDER_SCHEMA = {"type": "boolean", "description": "Placeholder. Always pass true."}
# Constraints v1internal does not take: written into the description instead.
_HINTS = (
    "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "pattern", "minItems", "maxItems", "default",
)  # fmt: skip
_MAX_DEPTH = 32
_MAX_NODES = 5000


def function_parameters(schema: Mapping[str, Any], *, placeholder: bool) -> dict[str, Any] | None:
    """The cleaned root object schema of a tool; None (omit it) when it has no properties,
    unless `placeholder` asks for the one-property stand-in Claude needs."""
    cleaned = clean_schema(schema) if schema else {}
    cleaned.setdefault("type", "object")
    if cleaned.get("properties"):
        return cleaned
    if not placeholder:
        return None
    return {**cleaned, "properties": {PLACEHOLDER: _PLACEHOLDER_SCHEMA}, "required": [PLACEHOLDER]}


def clean_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for key in ("definitions", "$defs"):
        if isinstance(found := schema.get(key), dict):
            defs.update(found)
    return _Cleaner(defs).clean(schema, frozenset(), 0)


class _Cleaner:
    """One pass over a schema; `budget` bounds the output so `$ref` fan-out cannot explode."""

    def __init__(self, defs: Mapping[str, Any]) -> None:
        self.defs = defs
        self.budget = _MAX_NODES

    def clean(self, node: object, seen: frozenset[str], depth: int) -> dict[str, Any]:
        self.budget -= 1
        if not isinstance(node, dict) or self.budget < 0 or depth > _MAX_DEPTH:
            return {}  # `true`/`false` schemas, or past the limits: anything
        if isinstance(ref := node.get("$ref"), str):
            name = ref.rsplit("/", 1)[-1]
            target = self.defs.get(name)
            if name in seen or not isinstance(target, dict):
                target = {"type": "object"}  # recursive or unresolvable
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return self.clean({**target, **rest}, seen | {name}, depth + 1)
        out, hints = self.keywords(node, seen, depth + 1)
        for branch in _as_list(node.get("allOf")):
            _merge(out, self.clean(branch, seen, depth + 1))
        alternatives = _as_list(node.get("anyOf") or node.get("oneOf"))
        branches = [
            b for b in alternatives if not (isinstance(b, dict) and b.get("type") == "null")
        ]
        if len(branches) < len(alternatives):
            out["nullable"] = True
        cleaned = [self.clean(b, seen, depth + 1) for b in branches]
        if cleaned:
            _merge(out, cleaned[0])
        if len(cleaned) > 1:
            hints.append("accepts: " + " | ".join(str(c.get("type", "any")) for c in cleaned))
        _describe(out, node.get("description"), hints)
        return out

    def keywords(
        self, node: Mapping[str, Any], seen: frozenset[str], depth: int
    ) -> tuple[dict[str, Any], list[str]]:
        out, hints = _scalars(node)
        if isinstance(props := node.get("properties"), dict):
            out["properties"] = {str(k): self.clean(v, seen, depth) for k, v in props.items()}
            required = [r for r in _as_list(node.get("required")) if isinstance(r, str)]
            if required := [r for r in dict.fromkeys(required) if r in props]:
                out["required"] = required
        items = node.get("items")
        if isinstance(items, list):
            items = items[0] if items else None
        if isinstance(items, dict):
            out["items"] = self.clean(items, seen, depth)
        if "type" not in out and ("properties" in out or "items" in out):
            out["type"] = "object" if "properties" in out else "array"
        return out, hints


def _scalars(node: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """type, nullable and enum (`const` too), plus the constraint hints for the description."""
    out: dict[str, Any] = {}
    hints = [
        f"{k}: {_show(node[k])}" for k in _HINTS if k in node and not isinstance(node[k], dict)
    ]
    types = [t.lower() for t in _as_list(node.get("type")) if isinstance(t, str)]
    if non_null := [t for t in types if t != "null"]:
        out["type"] = non_null[0]
    if len(non_null) < len(types):
        out["nullable"] = True
    types = non_null
    if len(types) > 1:
        hints.append("accepts: " + " | ".join(types))
    values = node["enum"] if isinstance(node.get("enum"), list) else None
    if "const" in node:
        values = [node["const"]]
    if values is not None:
        _enum(out, values, hints)
    return out, hints


def _enum(out: dict[str, Any], values: list[Any], hints: list[str]) -> None:
    """String enums stay enums (v1internal's enum is string-only); others become a hint."""
    if None in values:
        out["nullable"] = True
    values = [v for v in values if v is not None]
    if values and all(isinstance(v, str) for v in values):
        out["enum"] = values
        out.setdefault("type", "string")
    elif values:
        hints.append("one of: " + ", ".join(_show(v) for v in values))


def _merge(out: dict[str, Any], other: Mapping[str, Any]) -> None:
    """Fold a sub-schema in; what `out` already says wins, properties and required are unioned."""
    for key, value in other.items():
        if key == "properties":
            props = out.setdefault("properties", {})
            for name, schema in value.items():
                props.setdefault(name, schema)
        elif key == "required":
            out["required"] = list(dict.fromkeys([*out.get("required", []), *value]))
        else:
            out.setdefault(key, value)


def _describe(out: dict[str, Any], description: object, hints: list[str]) -> None:
    text = description if isinstance(description, str) else out.get("description", "")
    if hints:
        text = f"{text} ({', '.join(hints)})" if text else f"({', '.join(hints)})"
    if text:
        out["description"] = text


def _show(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _as_list(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]
