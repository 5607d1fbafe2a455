"""A grounded answer in Anthropic's web-search shape: `server_tool_use` (the query) and
`web_search_tool_result` (the pages) blocks, and `citations` on the text they back. Pure.

Non-stream answers put the two blocks first and split each text block at the cited spans, as
Anthropic does. A stream learns the sources only at its end: there the blocks follow uncited text.
"""

from __future__ import annotations

from typing import Any

from antigravity_gateway.core.messages import Citation, Grounding, Source

SEARCH_TOOL = "web_search"


def tool_id(response_id: str) -> str:
    return f"srvtoolu_{response_id or 'search'}"


def search_blocks(grounding: Grounding, response_id: str) -> list[dict[str, Any]]:
    """The `server_tool_use` block and its `web_search_tool_result`."""
    query = " ".join(grounding.queries)
    results = [
        {
            "type": "web_search_result",
            "url": source.url,
            "title": source.title or source.url,
            "encrypted_content": "",  # Anthropic's opaque handle; the upstream has none
            "page_age": None,
        }
        for source in grounding.sources
        if source.url
    ]
    ident = tool_id(response_id)
    return [
        {"type": "server_tool_use", "id": ident, "name": SEARCH_TOOL, "input": {"query": query}},
        {"type": "web_search_tool_result", "tool_use_id": ident, "content": results},
    ]


def cited_text_blocks(text: str, offset: int, grounding: Grounding) -> list[dict[str, Any]]:
    """The text part that starts at character `offset` of the answer, split at cited spans."""
    cuts = {0, len(text)}
    spans = [c for c in grounding.citations if c.start < offset + len(text) and c.end > offset]
    for cited in spans:
        cuts |= {min(max(cited.start - offset, 0), len(text)), min(cited.end - offset, len(text))}
    edges = sorted(cuts)
    blocks: list[dict[str, Any]] = []
    for start, end in zip(edges, edges[1:], strict=False):
        if start == end:
            continue
        block: dict[str, Any] = {"type": "text", "text": text[start:end]}
        covering = [c for c in spans if c.start <= offset + start and c.end >= offset + end]
        if covering:
            block["citations"] = [loc for c in covering for loc in _locations(c, grounding.sources)]
        blocks.append(block)
    return blocks


def _locations(cited: Citation, sources: tuple[Source, ...]) -> list[dict[str, Any]]:
    return [
        {
            "type": "web_search_result_location",
            "url": sources[i].url,
            "title": sources[i].title or sources[i].url,
            "encrypted_index": "",  # likewise opaque and absent upstream
            "cited_text": cited.text,
        }
        for i in cited.sources
    ]
