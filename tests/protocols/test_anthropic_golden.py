"""Golden cases for the Anthropic codec (docs/architecture.md §3): each directory under
tests/golden/anthropic.

request.json -> request.hub.json (count_tokens bodies, without max_tokens, decode too);
events.json -> response.json (non-stream message) + stream.sse (Anthropic's SSE, byte for byte).
Rewrite the expected files with `python -m pytest tests/protocols --update-golden`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from antigravity_gateway.core import events
from antigravity_gateway.protocols.anthropic import inbound
from antigravity_gateway.protocols.anthropic.stream import StreamEncoder

from . import hubjson
from .test_golden import check_golden

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "anthropic"
CLIENT_MODEL = "claude-sonnet-4-5"
MESSAGE_ID = "msg_golden"
CASES = sorted(case for case in GOLDEN.iterdir() if case.is_dir())


def produce(case: Path) -> dict[str, str]:
    out = {}
    if (case / "request.json").exists():
        body = hubjson.read(case / "request.json")
        request = inbound.decode_request(body, counting="max_tokens" not in body)
        out["request.hub.json"] = hubjson.to_text(hubjson.dump(request))
    if (case / "events.json").exists():
        evs = events.check(hubjson.load(hubjson.read(case / "events.json")))
        resp = events.assemble(evs)
        body = inbound.encode_response(resp, model=CLIENT_MODEL)
        out["response.json"] = hubjson.to_text({**body, "id": MESSAGE_ID})
        encoder = StreamEncoder(id=MESSAGE_ID, model=CLIENT_MODEL)
        out["stream.sse"] = b"".join(f for ev in evs for f in encoder.feed(ev)).decode()
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden(case: Path, update_golden: bool) -> None:
    check_golden(case, produce(case), update_golden)


def test_every_block_type_has_a_golden_case() -> None:
    """Both directions, stream and non-stream: each block type appears in some case."""
    requests = "".join(p.read_text() for p in GOLDEN.glob("*/request.json"))
    streams = "".join(p.read_text() for p in GOLDEN.glob("*/stream.sse"))
    for block in ("text", "image", "document", "tool_use", "tool_result", "thinking",
                  "redacted_thinking", "search_result"):  # fmt: skip
        assert f'"type": "{block}"' in requests, block
    for block in ("text", "thinking", "redacted_thinking", "tool_use"):
        assert f'"content_block":{{"type":"{block}"' in streams, block
    for delta in ("text_delta", "thinking_delta", "signature_delta", "input_json_delta"):
        assert f'"type":"{delta}"' in streams, delta
