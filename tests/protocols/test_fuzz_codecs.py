"""Every codec turns any JSON body into a hub request or a 4xx: 2,000 seeded cases per protocol,
never another exception; the server's boundary (`server.context.decode_now`) is a safety net
for what a future codec change might miss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given

from antigravity_gateway.errors import GatewayError, InvalidRequest
from antigravity_gateway.protocols.anthropic import inbound as anthropic
from antigravity_gateway.protocols.gemini import inbound as gemini
from antigravity_gateway.protocols.openai_chat import completions
from antigravity_gateway.protocols.openai_chat import inbound as openai
from antigravity_gateway.protocols.openai_responses import inbound as responses
from antigravity_gateway.server.context import decode_now
from tests import fuzz_cases as cases

CODECS: dict[str, tuple[Callable[..., Any], dict[str, Any], dict[str, Any]]] = {
    "openai-chat": (openai.decode_request, cases.OPENAI_CHAT, {}),
    "completions": (completions.decode_request, cases.COMPLETIONS, {}),
    "responses": (responses.decode_request, cases.RESPONSES, {}),
    "anthropic": (anthropic.decode_request, cases.ANTHROPIC, {}),
    "anthropic-count": (anthropic.decode_request, cases.ANTHROPIC_COUNT, {"counting": True}),
    "gemini": (gemini.decode_request, cases.GEMINI,
               {"model": "gemini-3-flash", "stream": False, "family": "gemini"}),
    "gemini-count": (gemini.decode_count_request, cases.GEMINI_COUNT,
                     {"model": "gemini-3-flash", "family": "gemini"}),
}


@pytest.mark.parametrize("name", list(CODECS))
def test_any_body_decodes_or_is_a_4xx(name: str) -> None:
    codec, base, kwargs = CODECS[name]
    codec(base, **kwargs)  # the base body itself is valid

    @cases.FUZZ
    @given(body=cases.mutated(base))
    def fuzz(body: Any) -> None:
        try:
            codec(body, **kwargs)  # not through the boundary's safety net: the codec itself
        except GatewayError as err:
            assert 400 <= err.http_status < 500, err

    fuzz()


def test_the_boundary_turns_a_codec_slip_into_a_400() -> None:
    def slips(body: Any) -> None:
        return body["messages"][0]["role"].lower()  # type: ignore[no-any-return]

    for body in ({"messages": [{"role": ["x"]}]}, {"messages": []}, {}):
        with pytest.raises(InvalidRequest, match="unexpected shape"):
            decode_now(slips, body)
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(InvalidRequest, match="nested"):
        decode_now(lambda body: repr(body), deep)
