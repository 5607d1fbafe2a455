"""Golden cases (docs/architecture.md §3) for the Responses API and legacy Completions codecs.

tests/golden/openai_responses/<case>: request.json -> request.hub.json (the hub request plus
what the encoders need: tool names, store, include, summaries); events.json -> response.json +
stream.sse, encoded with the context of request.json (or a plain one when there is none).
tests/golden/openai_completions/<case>: request.json -> request.hub.json; events.json ->
response.json + stream.sse. Chat cases run in test_golden.py.
Rewrite the expected files with `python -m pytest tests/protocols --update-golden`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from antigravity_gateway.core import events
from antigravity_gateway.protocols.openai_chat import completions
from antigravity_gateway.protocols.openai_responses import inbound as responses
from antigravity_gateway.protocols.openai_responses.output import encode_response
from antigravity_gateway.protocols.openai_responses.stream import StreamEncoder

from . import hubjson
from .test_golden import check_golden

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CREATED = 1_700_000_000
CLIENT_MODEL = "gpt-5"


def _context(decoded: responses.ResponsesRequest | None) -> responses.Context:
    if decoded is None:
        return responses.Context(id="resp_golden", created_at=CREATED, model=CLIENT_MODEL)
    return decoded.context(id="resp_golden", created_at=CREATED)


def _decoded_for_hub(decoded: responses.ResponsesRequest) -> dict[str, Any]:
    return {
        "chat": hubjson.dump(decoded.chat),
        "custom_tools": sorted(decoded.names.custom),
        "namespaced": dict(decoded.names.namespaced),
        "store": decoded.store,
        "include_encrypted": decoded.include_encrypted,
        "summaries": decoded.summaries,
    }


def responses_case(case: Path) -> dict[str, str]:
    out, decoded = {}, None
    if (case / "request.json").exists():
        decoded = responses.decode_request(hubjson.read(case / "request.json"))
        out["request.hub.json"] = hubjson.to_text(_decoded_for_hub(decoded))
    if (case / "events.json").exists():
        evs = events.check(hubjson.load(hubjson.read(case / "events.json")))
        ctx = _context(decoded)
        out["response.json"] = hubjson.to_text(encode_response(events.assemble(evs), ctx))
        encoder = StreamEncoder(ctx)
        out["stream.sse"] = b"".join(f for ev in evs for f in encoder.feed(ev)).decode()
    return out


def completions_case(case: Path) -> dict[str, str]:
    out, echo = {}, ""
    if (case / "request.json").exists():
        body = hubjson.read(case / "request.json")
        out["request.hub.json"] = hubjson.to_text(hubjson.dump(completions.decode_request(body)))
        echo = completions.echo_of(body)
    if (case / "events.json").exists():
        evs = events.check(hubjson.load(hubjson.read(case / "events.json")))
        resp = completions.encode_response(
            events.assemble(evs), model=CLIENT_MODEL, created=CREATED, echo=echo
        )
        out["response.json"] = hubjson.to_text(resp)
        encoder = completions.StreamEncoder(
            id="cmpl-golden", model=CLIENT_MODEL, created=CREATED, include_usage=True, echo=echo
        )
        out["stream.sse"] = b"".join(f for ev in evs for f in encoder.feed(ev)).decode()
    return out


RUNNERS: dict[str, Callable[[Path], dict[str, str]]] = {
    "openai_responses": responses_case,
    "openai_completions": completions_case,
}
CASES = sorted(case for fmt in RUNNERS for case in (GOLDEN / fmt).iterdir() if case.is_dir())


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden(case: Path, update_golden: bool) -> None:
    check_golden(case, RUNNERS[case.parent.name](case), update_golden)
