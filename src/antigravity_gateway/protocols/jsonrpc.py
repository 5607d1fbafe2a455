"""JSON-RPC 2.0 error envelopes: how the gateway answers MCP clients when it refuses a request.

Only errors the gateway itself raises (auth, switched-off servers, oversize bodies, an
unreachable z.ai); the MCP servers behind `/mcp/` render their own protocol errors.
"""

from __future__ import annotations

from typing import Any

from ..errors import GatewayError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000  # implementation-defined range; the MCP SDKs use it for transport refusals


def error_body(code: int, message: str, request_id: Any = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def encode_error(err: GatewayError) -> tuple[int, dict[str, Any]]:
    status = err.http_status
    code = INVALID_REQUEST if status < 500 else SERVER_ERROR
    return status, error_body(code, err.message)
