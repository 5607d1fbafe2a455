"""The request id on every log line logged while a request is served.

`Tagged` (entered by the request-id middleware) keeps the id in a context variable for the
whole request; `RequestIdFilter` (installed by the runner) prefixes every text line logged
meanwhile with `[id]`, the access line included. The access line itself comes from the
monitor (`Monitor.log_access`): one per request, proxied or not.
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


class RequestIdFilter(logging.Filter):
    """Prefix a text line logged while a request is served with `[id]` (JSON lines stay JSON)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        message = str(record.msg)
        if request_id and not message.startswith(("[", "{")):
            record.msg = f"[{request_id}] {message}"
        return True
