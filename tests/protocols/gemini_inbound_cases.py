"""The golden runner for the Gemini client-facing codec (tests/golden/gemini_inbound/<case>/).

request.json -> request.hub.json (a body with `generateContentRequest` decodes as countTokens);
events.json -> response.json, stream.sse (`alt=sse`) and stream.array (the JSON-array stream),
the last two byte for byte. Registered in test_golden.py's RUNNERS.
"""

from __future__ import annotations

from pathlib import Path

from antigravity_gateway.core import events
from antigravity_gateway.protocols.gemini import inbound

from . import hubjson

CLIENT_MODEL = "gemini-3-flash"


def gemini_inbound_case(case: Path) -> dict[str, str]:
    out = {}
    if (case / "request.json").exists():
        body = hubjson.read(case / "request.json")
        if "generateContentRequest" in body:
            request = inbound.decode_count_request(body, model=CLIENT_MODEL)
        else:
            request = inbound.decode_request(body, model=CLIENT_MODEL, stream=True)
        out["request.hub.json"] = hubjson.to_text(hubjson.dump(request))
    if (case / "events.json").exists():
        evs = events.check(hubjson.load(hubjson.read(case / "events.json")))
        body = inbound.encode_response(events.assemble(evs), model=CLIENT_MODEL)
        out["response.json"] = hubjson.to_text(body)
        for name, framing in (("stream.sse", "sse"), ("stream.array", "array")):
            encoder = inbound.StreamEncoder(framing=framing, model=CLIENT_MODEL)
            out[name] = b"".join(f for ev in evs for f in encoder.feed(ev)).decode()
    return out
