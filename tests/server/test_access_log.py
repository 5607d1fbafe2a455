"""The access line's layout and the request-id prefix on other lines."""

from __future__ import annotations

import logging

from antigravity_gateway.server import access_log
from antigravity_gateway.server.access_log import AccessRecord, format_line


def test_format_line() -> None:
    record = AccessRecord("r1", "POST", "/v1/messages", 0.0, status=200, model="claude-x",
                          mapped="claude-sonnet-4-6", account="a@example.com", seconds=1.234)
    assert format_line(record) == (
        "[r1] POST /v1/messages 200 claude-x -> claude-sonnet-4-6 a@example.com 1.23s")
    bare = AccessRecord("r2", "GET", "/healthz", 0.0, status=200, seconds=0.0042)
    assert format_line(bare) == "[r2] GET /healthz 200 4ms"


def test_request_id_filter_tags_lines_inside_a_request_only() -> None:
    def tagged(message: str) -> str:
        record = logging.LogRecord("antigravity_gateway.x", logging.INFO, "", 0, message, (), None)
        access_log.RequestIdFilter().filter(record)
        return str(record.msg)

    assert tagged("outside") == "outside"
    token = access_log._current.set(AccessRecord("r3", "GET", "/", 0.0))
    try:
        access_log.note(model="m", mapped="u", account="a@example.com")
        assert tagged("inside") == "[r3] inside"
        assert access_log._current.get() == AccessRecord(
            "r3", "GET", "/", 0.0, model="m", mapped="u", account="a@example.com")
    finally:
        access_log._current.reset(token)
