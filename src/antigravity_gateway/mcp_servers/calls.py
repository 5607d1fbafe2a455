"""One record per MCP request for the monitor: which tool (or JSON-RPC method), and how it went.

`record_call` is the single hook point where the monitor takes its row (protocol `mcp`, the tool
name as the model). `Sniffer` keeps the first bytes of a streamed request body so the tool name can
be read without buffering the body whole.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from ..server import monitoring

log = logging.getLogger(__name__)

SNIFF_BYTES = 64 * 1024
_decode = msgspec.json.Decoder().decode


@dataclass(frozen=True, slots=True, kw_only=True)
class McpCall:
    """A finished MCP request."""

    server: str
    http_method: str
    path: str
    tool: str  # the tool for `tools/call`, else the JSON-RPC method(s), else the HTTP method
    status: int
    duration_ms: int
    client_ip: str
    error: str = ""


@dataclass
class Sniffer:
    """The first `SNIFF_BYTES` of a body, collected while it streams past."""

    head: bytearray = field(default_factory=bytearray)
    total: int = 0

    def feed(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = SNIFF_BYTES - len(self.head)
        if room > 0:
            self.head += chunk[:room]

    def tool(self) -> str:
        """What the body asks for; "" when it is not (complete) JSON-RPC."""
        try:
            message = _decode(bytes(self.head))
        except (msgspec.DecodeError, RecursionError):  # not JSON, cut short, or nested too deep
            return ""
        members = message if isinstance(message, list) else [message]
        return ",".join(filter(None, (_asked(m) for m in members)))


def _asked(message: Any) -> str:
    if not isinstance(message, dict):
        return ""
    method = message.get("method")
    params = message.get("params")
    if method == "tools/call" and isinstance(params, dict) and isinstance(params.get("name"), str):
        return str(params["name"])
    return method if isinstance(method, str) else ""


class Stopwatch:
    """Milliseconds since the request began."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def elapsed_ms(self) -> int:
        return round((time.monotonic() - self._start) * 1000)


def record_call(request: web.Request, call: McpCall) -> None:
    """The monitor hook: one row per MCP request. Never raises (monitoring never breaks one).

    The monitor's middleware opens the row for every `/mcp/` request (protocol `mcp`) and takes
    the status from the response; this adds what only the MCP code knows: the tool as the model.
    """
    monitoring.note(model=call.tool, mapped_model=call.server)
    if call.error:
        monitoring.note(error=call.error)
    log.debug(
        "mcp %s %s %s -> %d in %d ms%s",
        call.server,
        call.http_method,
        call.tool or "-",
        call.status,
        call.duration_ms,
        f" ({call.error})" if call.error else "",
    )
