"""Typed readers for client JSON: each returns the value or raises InvalidRequest naming its path.

Shared by the inbound codecs so every protocol reports a bad field the same way. No coercion
beyond JSON's own (an int is a number, a bool is not); `null` reads as absent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from antigravity_gateway.errors import InvalidRequest


def at(path: str, key: str | int) -> str:
    """`messages` + 2 -> `messages[2]`; `messages[2]` + `role` -> `messages[2].role`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def kind(value: object) -> str:
    """The JSON type name of a value, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "value"


def required(value: object, path: str) -> None:
    if value is None:
        raise InvalidRequest("is required", path=path)


def obj(value: object, path: str) -> dict[str, Any]:
    required(value, path)
    if not isinstance(value, dict):
        raise InvalidRequest(f"must be an object, got {kind(value)}", path=path)
    return value


def array(value: object, path: str, *, nonempty: bool = False) -> list[Any]:
    required(value, path)
    if not isinstance(value, list):
        raise InvalidRequest(f"must be an array, got {kind(value)}", path=path)
    if nonempty and not value:
        raise InvalidRequest("must not be empty", path=path)
    return value


def string(value: object, path: str, *, nonempty: bool = False) -> str:
    required(value, path)
    if not isinstance(value, str):
        raise InvalidRequest(f"must be a string, got {kind(value)}", path=path)
    if nonempty and not value:
        raise InvalidRequest("must not be empty", path=path)
    return value


def opt_string(body: Mapping[str, Any], key: str, path: str = "") -> str | None:
    value = body.get(key)
    return None if value is None else string(value, at(path, key))


def opt_bool(body: Mapping[str, Any], key: str, path: str = "") -> bool | None:
    value = body.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise InvalidRequest(f"must be a boolean, got {kind(value)}", path=at(path, key))


def opt_int(body: Mapping[str, Any], key: str, path: str = "", *, minimum: int = 0) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRequest(f"must be an integer, got {kind(value)}", path=at(path, key))
    if value < minimum:
        raise InvalidRequest(f"must be >= {minimum}, got {value}", path=at(path, key))
    return value


def opt_number(
    body: Mapping[str, Any], key: str, path: str = "", *, low: float, high: float
) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if kind(value) != "number" or (isinstance(value, float) and not math.isfinite(value)):
        raise InvalidRequest(f"must be a number, got {kind(value)}", path=at(path, key))
    if not low <= value <= high:
        raise InvalidRequest(f"must be between {low:g} and {high:g}", path=at(path, key))
    return float(value)
