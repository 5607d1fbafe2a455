"""Gemini `groundingMetadata` <-> the hub's `Grounding`.

`decode` reads what Google sends with a grounded answer (webSearchQueries, groundingChunks[].web,
groundingSupports[].segment with UTF-8 byte offsets) and turns the offsets into character
offsets of the answer's text; the original object is kept as `native` so Gemini clients get it
unchanged. `encode` rebuilds a groundingMetadata for answers that have no native one. Pure.
"""

from __future__ import annotations

from typing import Any

from antigravity_gateway.core.messages import Citation, Grounding, Source


def decode(meta: dict[str, Any], text: str) -> Grounding:
    """`meta` for the answer whose visible text is `text`."""
    queries = tuple(q for q in meta.get("webSearchQueries") or () if isinstance(q, str))
    sources = tuple(_source(chunk) for chunk in meta.get("groundingChunks") or ())
    citations = []
    for support in meta.get("groundingSupports") or ():
        if isinstance(support, dict) and (cited := _citation(support, text, len(sources))):
            citations.append(cited)
    return Grounding(queries=queries, sources=sources, citations=tuple(citations), native=meta)


def _source(chunk: Any) -> Source:
    web = chunk.get("web") if isinstance(chunk, dict) else None
    if not isinstance(web, dict):
        return Source(url="")
    url, title = web.get("uri"), web.get("title")
    return Source(
        url=url if isinstance(url, str) else "", title=title if isinstance(title, str) else ""
    )


def _citation(support: dict[str, Any], text: str, count: int) -> Citation | None:
    segment = support.get("segment")
    indices = support.get("groundingChunkIndices")
    if not isinstance(segment, dict) or not isinstance(indices, list):
        return None
    sources = tuple(i for i in indices if isinstance(i, int) and 0 <= i < count)
    cited = segment.get("text") if isinstance(segment.get("text"), str) else ""
    start = _char_offset(text, segment.get("startIndex", 0))
    end = _char_offset(text, segment.get("endIndex", 0))
    if cited and (found := text.find(cited)) >= 0:  # the text is the surer anchor
        start, end = found, found + len(cited)
    if not sources or end <= start:
        return None
    return Citation(start=start, end=end, text=cited or text[start:end], sources=sources)


def _char_offset(text: str, byte_offset: Any) -> int:
    if not isinstance(byte_offset, int) or byte_offset <= 0:
        return 0
    return len(text.encode()[:byte_offset].decode(errors="ignore"))


def encode(grounding: Grounding, text: str) -> dict[str, Any]:
    """Gemini's groundingMetadata: the native one when there is one, else rebuilt."""
    if grounding.native:
        return grounding.native
    supports = [
        {
            "segment": {
                "startIndex": len(text[: c.start].encode()),
                "endIndex": len(text[: c.end].encode()),
                "text": c.text,
            },
            "groundingChunkIndices": list(c.sources),
        }
        for c in grounding.citations
    ]
    return {
        "webSearchQueries": list(grounding.queries),
        "groundingChunks": [{"web": {"uri": s.url, "title": s.title}} for s in grounding.sources],
        "groundingSupports": supports,
    }
