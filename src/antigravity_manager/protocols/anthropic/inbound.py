"""Anthropic Messages, client-facing. For now only the error envelope: the Messages API itself is
not built yet (its routes answer 501 in this shape)."""

from __future__ import annotations

from typing import Any

from ...errors import GatewayError, kind_of

_TYPES = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "permission": "permission_error",
    "not_found": "not_found_error",
    "payload_too_large": "request_too_large",
    "rate_limit": "rate_limit_error",
    "overloaded": "overloaded_error",
    "timeout": "api_error",
    "not_implemented": "api_error",
    "api_error": "api_error",
}


def encode_error(err: GatewayError) -> tuple[int, dict[str, Any]]:
    kind = _TYPES.get(kind_of(err), "api_error")
    return err.http_status, {"type": "error", "error": {"type": kind, "message": err.message}}
