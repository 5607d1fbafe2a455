"""Which MCP server a route names, and whether settings let it answer (docs/upstream.md §11.7)."""

from __future__ import annotations

from enum import Enum

from ..errors import InvalidRequest, NotFound
from ..settings import Settings


class McpServer(Enum):
    """The three servers under `/mcp/<name>/mcp`."""

    WEB_SEARCH = "web_search_prime"
    WEB_READER = "web_reader"
    VISION = "zai-mcp-server"


_SWITCHES = {  # the `zai.mcp.*` flag that turns each one on
    McpServer.WEB_SEARCH: "web_search",
    McpServer.WEB_READER: "web_reader",
    McpServer.VISION: "vision",
}


def zai_key(settings: Settings, server: McpServer) -> str:
    """The z.ai key for `server`; 400 when z.ai is not configured, 404 when it is switched off."""
    zai = settings.zai
    if not zai.enabled or not zai.api_key:
        raise InvalidRequest("z.ai is not configured")
    switch = _SWITCHES[server]
    if not zai.mcp.enabled:
        raise NotFound(f"the MCP server {server.value} is switched off (zai.mcp.enabled = false)")
    if not getattr(zai.mcp, switch):
        raise NotFound(f"the MCP server {server.value} is switched off (zai.mcp.{switch} = false)")
    return zai.api_key
