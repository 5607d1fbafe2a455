"""core.sse: chunking never changes what is decoded; WHATWG line rules; frame round trip."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from antigravity_gateway.core.sse import SseDecoder, SseEvent, encode_comment, encode_frame


def decode_whole(raw: bytes) -> list[SseEvent]:
    decoder = SseDecoder()
    return decoder.feed(raw) + decoder.close()


def decode_bytewise(raw: bytes) -> list[SseEvent]:
    decoder = SseDecoder()
    events = [e for i in range(len(raw)) for e in decoder.feed(raw[i : i + 1])]
    return events + decoder.close()


def decode_split(raw: bytes, cuts: list[int]) -> list[SseEvent]:
    decoder = SseDecoder()
    bounds = [0, *sorted(c % (len(raw) + 1) for c in cuts), len(raw)]
    events = [e for a, b in zip(bounds, bounds[1:], strict=False) for e in decoder.feed(raw[a:b])]
    return events + decoder.close()


payloads = st.text(
    st.characters(blacklist_characters="\r", blacklist_categories=("Cs",)), max_size=20
)
names = st.text(st.characters(whitelist_categories=("Ll",)), max_size=6)
streams = st.lists(st.tuples(payloads, names), max_size=5)
line_ends = st.sampled_from([b"\n", b"\r\n", b"\r"])


@given(streams, line_ends, st.lists(st.integers(0, 10**4), max_size=6))
def test_chunking_does_not_matter(
    items: list[tuple[str, str]], eol: bytes, cuts: list[int]
) -> None:
    raw = b"".join(encode_frame(data, event) for data, event in items).replace(b"\n", eol)
    expected = [SseEvent(data=data, event=event) for data, event in items]
    assert decode_whole(raw) == expected
    assert decode_bytewise(raw) == expected
    assert decode_split(raw, cuts) == expected


@given(payloads)
def test_encode_frame_round_trip(data: str) -> None:
    assert decode_whole(encode_frame(data)) == [SseEvent(data=data)]
    assert decode_whole(encode_frame(data.encode(), "ping")) == [SseEvent(data=data, event="ping")]


def test_crlf_in_data_becomes_lf() -> None:
    assert decode_whole(encode_frame("a\r\nb\rc")) == [SseEvent(data="a\nb\nc")]


def test_multi_line_data_comments_and_fields() -> None:
    raw = (
        b": keep-alive\n"
        b"id: 7\n"
        b"event: message\n"
        b"data:first\n"
        b"data: second\n"
        b"data\n"
        b"retry: 1000\n"
        b"unknown: x\n"
        b"\n"
        b"data: next\n\n"
    )
    assert (
        decode_bytewise(raw)
        == decode_whole(raw)
        == [
            SseEvent(data="first\nsecond\n", event="message", id="7"),
            SseEvent(data="next", id="7"),  # the last event id persists
        ]
    )


def test_comment_only_stream_and_blank_lines_yield_nothing() -> None:
    assert decode_whole(encode_comment("ping") + b"\n\n\n") == []


def test_close_flushes_an_unterminated_event() -> None:
    assert decode_whole(b"data: a\n\ndata: tail") == [SseEvent(data="a"), SseEvent(data="tail")]


def test_utf8_split_across_chunks() -> None:
    raw = encode_frame("héllo ✓")
    assert decode_bytewise(raw) == [SseEvent(data="héllo ✓")]


def test_bom_is_dropped() -> None:
    assert decode_whole(b"\xef\xbb\xbfdata: x\n\n") == [SseEvent(data="x")]


def test_bom_split_across_chunks_is_dropped() -> None:
    assert decode_bytewise(b"\xef\xbb\xbfdata: x\n\n") == [SseEvent(data="x")]


def test_empty_chunk_between_cr_and_lf() -> None:
    decoder = SseDecoder()
    chunks = [b"data: a\r", b"", b"\ndata: b\r\n\r\n"]
    events = [e for chunk in chunks for e in decoder.feed(chunk)] + decoder.close()
    assert events == [SseEvent(data="a\nb")]
