"""OpenAI Responses API codec: inbound (request), items, tools, output, stream."""
