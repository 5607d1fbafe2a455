"""Google Search grounding and audio transcription in the simulator.

A request with a `googleSearch` tool gets `groundingMetadata` on its final candidate, shaped as
Google sends it (docs/upstream.md §11.3): the queries, `groundingChunks[].web` with the
vertexaisearch redirect URIs and site titles, and `groundingSupports` whose segment covers the
answer with UTF-8 byte offsets. A request with an `audio/*` part is answered with TRANSCRIPT.
"""

from __future__ import annotations

from typing import Any

TRANSCRIPT = "The quick brown fox jumps over the lazy dog."
SOURCES = (
    ("https://vertexaisearch.cloud.google.com/grounding-api-redirect/AbF9wXE1", "example.com"),
    ("https://vertexaisearch.cloud.google.com/grounding-api-redirect/AbF9wXE2", "wikipedia.org"),
)
SEARCH_KEYS = ("googleSearch", "googleSearchRetrieval")


def wants_search(request: dict[str, Any]) -> bool:
    return any(key in tool for tool in request.get("tools") or [] for key in SEARCH_KEYS)


def has_audio(request: dict[str, Any]) -> bool:
    return any(
        str((part.get("inlineData") or {}).get("mimeType", "")).startswith("audio/")
        for content in request.get("contents") or []
        for part in content.get("parts") or []
    )


def last_user_text(request: dict[str, Any]) -> str:
    for content in reversed(request.get("contents") or []):
        texts = [p["text"] for p in content.get("parts") or [] if isinstance(p.get("text"), str)]
        if content.get("role") in (None, "user") and texts:
            return " ".join(texts)
    return ""


def metadata(request: dict[str, Any], answer: str) -> dict[str, Any]:
    """Google's groundingMetadata for `answer` (its whole text is one supported segment)."""
    query = last_user_text(request)[:200] or "search"
    end = len(answer.encode())
    return {
        "webSearchQueries": [query],
        "searchEntryPoint": {"renderedContent": '<div class="container">search</div>'},
        "groundingChunks": [{"web": {"uri": uri, "title": title}} for uri, title in SOURCES],
        "groundingSupports": [
            {
                "segment": {"startIndex": 0, "endIndex": end, "text": answer},
                "groundingChunkIndices": [0, 1],
                "confidenceScores": [0.92, 0.81],
            }
        ]
        if answer
        else [],
        "retrievalMetadata": {},
    }
