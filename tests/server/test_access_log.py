"""The request-id prefix on log lines, inside a request only, never on JSON lines."""

from __future__ import annotations

import logging

from antigravity_gateway.server import access_log


def tagged(message: str) -> str:
    record = logging.LogRecord("antigravity_gateway.x", logging.INFO, "", 0, message, (), None)
    access_log.RequestIdFilter().filter(record)
    return str(record.msg)


def test_request_id_filter_tags_lines_inside_a_request_only() -> None:
    assert tagged("outside") == "outside"
    with access_log.Tagged("r3"):
        assert access_log.current_request_id() == "r3"
        assert tagged("inside") == "[r3] inside"
        assert tagged('{"status": 200}') == '{"status": 200}'  # a JSON access line stays JSON
        with access_log.Tagged("r4"):  # nested: the inner id, then the outer one again
            assert tagged("nested") == "[r4] nested"
        assert tagged("inside") == "[r3] inside"
    assert tagged("after") == "after"
