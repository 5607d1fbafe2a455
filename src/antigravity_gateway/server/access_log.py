"""The request id on every log line logged while a request is served.

`Tagged` (entered by the request-id middleware) keeps the id in a context variable for the
whole request; `tag` prefixes a text line logged meanwhile with `[id]`: `RequestIdFilter`
(installed by the runner) for lines through `logging`, the runner's access-line writer for
the access line, which comes from the monitor (`Monitor.log_access`), one per request.
"""

from __future__ import annotations

import contextvars
import logging

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


class Tagged:
    """Within this block (one request), log lines carry `[request_id]`. A class rather than
    `@contextlib.contextmanager`, whose generator costs ~1 us a request (bench/README.md)."""

    __slots__ = ("_request_id", "_token")

    def __init__(self, request_id: str) -> None:
        self._request_id = request_id

    def __enter__(self) -> None:
        self._token = _request_id.set(self._request_id)

    def __exit__(self, *_: object) -> None:
        _request_id.reset(self._token)


def tag(message: str) -> str:
    """`message` with `[id]` in front while a request is served (JSON lines stay JSON)."""
    request_id = _request_id.get()
    if request_id and not message.startswith(("[", "{")):
        return f"[{request_id}] {message}"
    return message


class RequestIdFilter(logging.Filter):
    """`tag` every text line logged through `logging`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = tag(str(record.msg))
        return True
