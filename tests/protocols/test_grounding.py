"""Gemini groundingMetadata -> hub Grounding -> each client's citations."""

from __future__ import annotations

from typing import Any

from antigravity_gateway.core.events import Finish, check
from antigravity_gateway.core.messages import ChatResponse, Citation, Grounding, Source, Text
from antigravity_gateway.protocols.anthropic import inbound as anthropic
from antigravity_gateway.protocols.anthropic.search import cited_text_blocks
from antigravity_gateway.protocols.gemini import grounding, outbound
from antigravity_gateway.protocols.gemini.replies import encode_response as gemini_response
from antigravity_gateway.protocols.openai_chat import inbound as openai
from antigravity_gateway.protocols.search import is_search_tool, url_citations

TEXT = "Café prices rose. Bread too."
META: dict[str, Any] = {
    "webSearchQueries": ["cafe prices"],
    "groundingChunks": [{"web": {"uri": "https://a.example", "title": "a"}},
                        {"web": {"uri": "https://b.example", "title": "b"}}],
    "groundingSupports": [
        {"segment": {"startIndex": 0, "endIndex": 18, "text": "Café prices rose."},
         "groundingChunkIndices": [0]},
        {"segment": {"startIndex": 19, "endIndex": 30}, "groundingChunkIndices": [1, 7]},
    ],
}  # fmt: skip


def test_decode_turns_byte_offsets_into_characters() -> None:
    found = grounding.decode(META, TEXT)
    assert found.queries == ("cafe prices",)
    assert found.sources == (Source(url="https://a.example", title="a"),
                             Source(url="https://b.example", title="b"))  # fmt: skip
    first, second = found.citations
    assert (first.start, first.end, first.sources) == (0, 17, (0,))
    assert TEXT[second.start : second.end] == "Bread too." and second.sources == (1,)
    assert found.native is META
    assert grounding.encode(found, TEXT) is META


def test_encode_rebuilds_metadata_without_a_native_one() -> None:
    found = Grounding(
        queries=("q",),
        sources=(Source(url="https://a.example"),),
        citations=(Citation(start=0, end=4, text="Café", sources=(0,)),),
    )
    meta = grounding.encode(found, TEXT)
    assert meta["groundingSupports"][0]["segment"]["endIndex"] == 5  # bytes: é is two
    assert meta["groundingChunks"] == [{"web": {"uri": "https://a.example", "title": ""}}]


def test_stream_decoder_puts_grounding_on_finish() -> None:
    chunk = {"candidates": [{"content": {"parts": [{"text": TEXT}]}, "finishReason": "STOP",
                             "groundingMetadata": META}]}  # fmt: skip
    events = check(outbound.decode_response(chunk))
    finish = events[-1]
    assert isinstance(finish, Finish) and finish.grounding is not None
    assert len(finish.grounding.citations) == 2


def response() -> ChatResponse:
    return ChatResponse(id="r1", model="m", parts=(Text(text=TEXT),), finish_reason="stop",
                        grounding=grounding.decode(META, TEXT))  # fmt: skip


def test_each_client_format() -> None:
    chat = openai.encode_response(response(), model="m", created=0)["choices"][0]["message"]
    assert [a["url_citation"]["url"] for a in chat.get("annotations", [])] == [
        "https://a.example", "https://b.example"]  # fmt: skip
    claude = anthropic.encode_response(response(), model="m")["content"]
    kinds = [block["type"] for block in claude]
    assert kinds == ["server_tool_use", "web_search_tool_result", "text", "text", "text"]
    assert claude[2]["text"] == "Café prices rose." and claude[3]["text"] == " "
    assert "citations" not in claude[3] and claude[4]["citations"][0]["url"] == "https://b.example"
    gemini = gemini_response(response())
    assert gemini["candidates"][0].get("groundingMetadata") is META


def test_cited_blocks_of_a_later_part_shift_by_its_offset() -> None:
    found = grounding.decode(META, TEXT)
    blocks = cited_text_blocks(" Bread too.", 17, found)
    assert [b["text"] for b in blocks] == [" ", "Bread too."]
    assert blocks[1]["citations"][0]["cited_text"] == "Bread too."


def test_url_citations_skip_nothing_and_search_tools_are_recognised() -> None:
    assert len(url_citations(response().grounding)) == 2 and url_citations(None) == []
    assert is_search_tool({"type": "web_search_20250305", "name": "web_search"})
    assert is_search_tool({"type": "function", "function": {"name": "google_search"}})
    assert is_search_tool({"type": "web_search_preview"})
    assert not is_search_tool({"type": "function", "function": {"name": "search_docs"}})
