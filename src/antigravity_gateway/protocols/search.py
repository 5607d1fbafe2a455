"""Web search for the client protocols (OpenAI chat and Responses, Anthropic).

Tool declarations that ask for it become the hub's `web_search` flag, never a function: the
upstream searches itself (googleSearch grounding). Names from docs/upstream.md
§11.3. Also the url_citation annotations both OpenAI APIs give a grounded answer.
"""

from __future__ import annotations

from typing import Any

from antigravity_gateway.core.messages import Grounding

SEARCH_NAMES = frozenset({"web_search", "google_search", "builtin_web_search"})


def is_search_tool(tool: Any) -> bool:
    """`{"type": "web_search*"}`, Anthropic's `web_search_20250305`, or a function of that name."""
    if not isinstance(tool, dict):
        return False
    kind = tool.get("type")
    if isinstance(kind, str) and (kind.startswith("web_search") or kind in SEARCH_NAMES):
        return True
    function = tool.get("function")
    name = function.get("name") if isinstance(function, dict) else tool.get("name")
    return kind in (None, "function", "custom") and isinstance(name, str) and name in SEARCH_NAMES


def wants_search(tools: Any) -> bool:
    return isinstance(tools, list) and any(is_search_tool(t) for t in tools)


def url_citations(grounding: Grounding | None) -> list[dict[str, Any]]:
    """OpenAI's url_citation fields (Responses' annotation shape; chat nests them), one per
    cited span and source, in the order of the text."""
    if grounding is None:
        return []
    return [
        {
            "type": "url_citation",
            "start_index": cited.start,
            "end_index": cited.end,
            "url": grounding.sources[i].url,
            "title": grounding.sources[i].title or grounding.sources[i].url,
        }
        for cited in sorted(grounding.citations, key=lambda c: (c.start, c.end))
        for i in cited.sources
        if grounding.sources[i].url
    ]


def chat_annotations(grounding: Grounding | None) -> list[dict[str, Any]]:
    """Chat Completions' `annotations`: `{"type": "url_citation", "url_citation": {...}}`."""
    return [
        {"type": "url_citation", "url_citation": {k: v for k, v in c.items() if k != "type"}}
        for c in url_citations(grounding)
    ]
