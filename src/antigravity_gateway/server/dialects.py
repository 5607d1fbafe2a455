"""Which protocol a request speaks, and how an error is rendered in it.

The protocol follows from the path; on the paths several clients share (`GET /v1/models...`)
the headers tell them apart. Used for every error the gateway answers, including 401, 404
and 413, so that each client always gets an envelope its SDK can parse.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

import msgspec
from aiohttp import web

from ..errors import GatewayError
from ..protocols import jsonrpc
from ..protocols.anthropic import inbound as anthropic
from ..protocols.gemini import inbound as gemini
from ..protocols.openai_chat import inbound as openai


class Dialect(Enum):
    """The protocol a request speaks, and so the shape of its error envelope."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GEMINI = "gemini"
    ADMIN = "admin"  # the admin API: {"error": "<message>"}
    MCP = "mcp"  # JSON-RPC error envelopes on /mcp/ routes


_ENCODERS: dict[Dialect, Callable[[GatewayError], tuple[int, Any]]] = {
    Dialect.OPENAI: openai.encode_error,
    Dialect.ANTHROPIC: anthropic.encode_error,
    Dialect.GEMINI: gemini.encode_error,
    Dialect.ADMIN: lambda err: (err.status, {"error": err.message}),
    Dialect.MCP: jsonrpc.encode_error,
}


def dialect_of(request: web.Request) -> Dialect:
    path = request.path
    if path.startswith("/api/") or path == "/api":
        return Dialect.ADMIN
    if path.startswith("/mcp/"):
        return Dialect.MCP
    if path.startswith("/v1/messages"):
        return Dialect.ANTHROPIC
    if path.startswith("/v1beta/") or (path.startswith("/v1/models/") and ":" in path):
        return Dialect.GEMINI
    if path.startswith("/v1/models"):
        return _dialect_by_headers(request)
    return Dialect.OPENAI


def _dialect_by_headers(request: web.Request) -> Dialect:
    headers = request.headers
    if "anthropic-version" in headers or request.path == "/v1/models/claude":
        return Dialect.ANTHROPIC
    if "x-goog-api-key" in headers or "key" in request.query or "x-goog-api-client" in headers:
        return Dialect.GEMINI
    return Dialect.OPENAI


def error_response(dialect: Dialect, err: GatewayError) -> web.Response:
    status, body = _ENCODERS[dialect](err)
    headers = {}
    if err.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(err.retry_after)))
    return json_response(body, status=status, headers=headers)


def json_response(
    body: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(body),
        status=status,
        headers=headers,
        content_type="application/json",
    )
