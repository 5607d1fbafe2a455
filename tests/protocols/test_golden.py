"""Golden cases (docs/architecture.md §3): every directory under
tests/golden/{openai_chat,gemini}/ is a case.

openai_chat: request.json -> request.hub.json; events.json -> response.json + stream.sse.
gemini: request.hub.json -> request.upstream.json (encoded for the hub request's `model`);
stream.sse (v1internal SSE, envelopes included) -> events.json + response.hub.json.
Rewrite the expected files with `python -m pytest tests/protocols --update-golden`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from antigravity_gateway.core import events
from antigravity_gateway.core.sse import SseDecoder
from antigravity_gateway.protocols.gemini import outbound
from antigravity_gateway.protocols.openai_chat import inbound

from . import hubjson
from .gemini_inbound_cases import gemini_inbound_case

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CREATED = 1_700_000_000
CLIENT_MODEL = "gpt-4o"


def openai_chat_case(case: Path) -> dict[str, str]:
    out = {}
    if (case / "request.json").exists():
        request = inbound.decode_request(hubjson.read(case / "request.json"))
        out["request.hub.json"] = hubjson.to_text(hubjson.dump(request))
    if (case / "events.json").exists():
        evs = events.check(hubjson.load(hubjson.read(case / "events.json")))
        resp = events.assemble(evs)
        body = inbound.encode_response(resp, model=CLIENT_MODEL, created=CREATED)
        out["response.json"] = hubjson.to_text(body)
        encoder = inbound.StreamEncoder(
            id="chatcmpl-golden", model=CLIENT_MODEL, created=CREATED, include_usage=True
        )
        out["stream.sse"] = b"".join(f for ev in evs for f in encoder.feed(ev)).decode()
    return out


def gemini_case(case: Path) -> dict[str, str]:
    out = {}
    if (case / "request.hub.json").exists():
        request = hubjson.load(hubjson.read(case / "request.hub.json"))
        out["request.upstream.json"] = hubjson.to_text(
            outbound.encode_request(request, model=request.model)
        )
    if (case / "stream.sse").exists():
        evs = events.check(decode_upstream_sse((case / "stream.sse").read_bytes()))
        out["events.json"] = hubjson.to_text(hubjson.dump(evs))
        out["response.hub.json"] = hubjson.to_text(hubjson.dump(events.assemble(evs)))
    return out


def decode_upstream_sse(raw: bytes) -> list[events.Event]:
    """What the provider does: SSE frames -> JSON -> strip the v1internal envelope -> decoder."""
    sse = SseDecoder()
    decoder = outbound.StreamDecoder(response_id="fallback-id")
    produced: list[events.Event] = []
    for frame in [*sse.feed(raw), *sse.close()]:
        chunk = json.loads(frame.data)
        produced += decoder.feed(chunk.get("response", chunk))
    return produced + decoder.close()


RUNNERS: dict[str, Callable[[Path], dict[str, str]]] = {
    "openai_chat": openai_chat_case,
    "gemini": gemini_case,
    "gemini_inbound": gemini_inbound_case,  # the client-facing codec: see gemini_inbound_cases.py
}
CASES = sorted(case for fmt in RUNNERS for case in (GOLDEN / fmt).iterdir() if case.is_dir())


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden(case: Path, update_golden: bool) -> None:
    check_golden(case, RUNNERS[case.parent.name](case), update_golden)


def check_golden(case: Path, produced: dict[str, str], update_golden: bool) -> None:
    """Each produced file equals the expected one (JSON compared as values); or rewrite it."""
    assert produced, f"{case} has no input file"
    for name, text in produced.items():
        expected = case / name
        if update_golden:
            expected.write_text(text)
            continue
        assert expected.exists(), f"{expected} is missing: run with --update-golden"
        if name.endswith(".json"):
            assert json.loads(text) == json.loads(expected.read_text()), name
        else:
            assert text == expected.read_text(), name
