"""The request id on every log line logged while a request is served.

`tagged` (entered by the request-id middleware) keeps the id in a context variable for the
whole request; `RequestIdFilter` (installed by the runner) prefixes every text line logged
meanwhile with `[id]`, the access line included. The access line itself comes from the
monitor (`Monitor.log_access`): one per request, proxied or not.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


@contextlib.contextmanager
def tagged(request_id: str) -> Iterator[None]:
    """Within this block (one request), log lines carry `[request_id]`."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Prefix a text line logged while a request is served with `[id]` (JSON lines stay JSON)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        message = str(record.msg)
        if request_id and not message.startswith(("[", "{")):
            record.msg = f"[{request_id}] {message}"
        return True
