"""The MCP routes: z.ai's web search and web reader MCP servers proxied, and a local vision server.

Named `mcp_servers` (not `mcp/`) so that `antigravity_gateway.mcp` never sits
beside the official `mcp` SDK this package imports: a bare `mcp` package of ours would shadow the
SDK for tools run from inside the tree and make every `import mcp` ambiguous to a reader.
"""
