"""Gemini generateContent, client-facing. For now only the error envelope: the Gemini routes are
not built yet (they answer 501 in this shape)."""

from __future__ import annotations

from typing import Any

from ...errors import GatewayError

_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def encode_error(err: GatewayError) -> tuple[int, dict[str, Any]]:
    status = err.http_status
    name = _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return status, {"error": {"code": status, "message": err.message, "status": name}}
