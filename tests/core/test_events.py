"""core.events: replay/assemble are inverses, and check() rejects every broken order."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from antigravity_gateway.core.events import (
    Event,
    Finish,
    PartEnd,
    PartStart,
    Start,
    StreamViolation,
    TextDelta,
    ThinkingDelta,
    ToolArgsDelta,
    assemble,
    check,
    replay,
)
from antigravity_gateway.core.messages import (
    ChatResponse,
    Citation,
    Grounding,
    Media,
    Signature,
    Source,
    Text,
    Thinking,
    ToolCall,
    Usage,
)

texts = st.text(max_size=12)
signatures = st.none() | st.builds(
    Signature, value=st.text(min_size=1, max_size=8), family=st.sampled_from(["gemini", "claude"])
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)
parts = st.one_of(
    st.builds(Text, text=texts, signature=signatures),
    st.builds(Thinking, text=texts, signature=signatures, redacted=st.booleans()),
    st.builds(
        ToolCall,
        id=texts,
        name=texts,
        arguments=st.dictionaries(texts, json_values, max_size=4),
        signature=signatures,
    ),
    st.builds(Media, mime=st.just("image/png"), data=texts),
    st.builds(Media, mime=st.just("image/png"), url=texts),
)
counts = st.integers(0, 10**6)
groundings = st.none() | st.builds(
    Grounding,
    queries=st.lists(texts, max_size=2).map(tuple),
    sources=st.lists(st.builds(Source, url=texts, title=texts), max_size=2).map(tuple),
    citations=st.lists(
        st.builds(Citation, start=counts, end=counts, text=texts,
                  sources=st.lists(st.integers(0, 3), max_size=2).map(tuple)),
        max_size=2,
    ).map(tuple),
)  # fmt: skip
responses = st.builds(
    ChatResponse,
    id=texts,
    model=texts,
    parts=st.lists(parts, max_size=6).map(tuple),
    finish_reason=st.sampled_from(["stop", "length", "tool_use", "content_filter", "error"]),
    usage=st.builds(
        Usage,
        input_tokens=counts,
        output_tokens=counts,
        reasoning_tokens=counts,
        cached_tokens=counts,
    ),
    grounding=groundings,
)


@given(responses)
def test_assemble_inverts_replay(response: ChatResponse) -> None:
    assert assemble(check(replay(response))) == response


START, FINISH = Start(id="i", model="m"), Finish(reason="stop")
OPEN_TEXT = PartStart(index=0, kind="text")

BROKEN: list[tuple[str, list[Any]]] = [
    ("empty", []),
    ("no start", [FINISH]),
    ("no finish", [START]),
    ("finish then more", [START, FINISH, TextDelta(index=0, text="x")]),
    ("two starts", [START, START, FINISH]),
    ("two finishes", [START, FINISH, FINISH]),
    ("skipped index", [START, PartStart(index=1, kind="text"), PartEnd(index=1), FINISH]),
    ("nested parts", [START, OPEN_TEXT, PartStart(index=1, kind="text"), FINISH]),
    ("delta before start", [START, TextDelta(index=0, text="x"), FINISH]),
    ("wrong kind", [START, OPEN_TEXT, ThinkingDelta(index=0, text="x"), PartEnd(index=0), FINISH]),
    (
        "args in text",
        [START, OPEN_TEXT, ToolArgsDelta(index=0, json="{}"), PartEnd(index=0), FINISH],
    ),
    ("wrong end", [START, OPEN_TEXT, PartEnd(index=1), FINISH]),
    ("never ended", [START, OPEN_TEXT, FINISH]),
    ("reused index", [START, OPEN_TEXT, PartEnd(index=0), OPEN_TEXT, PartEnd(index=0), FINISH]),
]


@pytest.mark.parametrize(("name", "evs"), BROKEN, ids=[name for name, _ in BROKEN])
def test_check_rejects(name: str, evs: list[Event]) -> None:
    with pytest.raises(StreamViolation):
        check(evs)


def test_check_accepts_an_empty_response_and_returns_the_list() -> None:
    assert check(iter([START, FINISH])) == [START, FINISH]


def test_assemble_without_finish_fails() -> None:
    with pytest.raises(StreamViolation):
        assemble([START, OPEN_TEXT, PartEnd(index=0)])


def test_assemble_joins_fragments() -> None:
    evs: list[Event] = [
        START,
        PartStart(index=0, kind="tool_call", tool_id="c", tool_name="f"),
        ToolArgsDelta(index=0, json='{"a": '),
        ToolArgsDelta(index=0, json="[1, 2]}"),
        PartEnd(index=0, signature=Signature(value="s", family="gemini")),
        FINISH,
    ]
    (call,) = assemble(check(evs)).parts
    assert call == ToolCall(
        id="c", name="f", arguments={"a": [1, 2]}, signature=Signature(value="s", family="gemini")
    )
