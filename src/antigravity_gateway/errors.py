"""The gateway's one error hierarchy: the only exceptions raised on purpose.

Each error carries an HTTP status and a protocol-neutral `kind`; every inbound protocol renders
them in its own envelope (see each `protocols/<fmt>/inbound.py:encode_error`). Nothing here knows
about any wire format.
"""

from __future__ import annotations

from typing import ClassVar


class GatewayError(Exception):
    """Base class. `kind` is one of the neutral kinds listed in `KINDS`."""

    status: ClassVar[int] = 500
    kind: ClassVar[str] = "api_error"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.headers: dict[str, str] = {}  # e.g. X-Mapped-Model, added on the way out

    @property
    def http_status(self) -> int:
        return self.status


KINDS = (
    "invalid_request",
    "authentication",
    "permission",
    "not_found",
    "payload_too_large",
    "rate_limit",
    "api_error",
    "overloaded",
    "not_implemented",
    "timeout",
)


class InvalidRequest(GatewayError):
    """The client's request is malformed; `path` names the offending JSON path."""

    status = 400
    kind = "invalid_request"

    def __init__(self, message: str, *, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path


class Unauthorized(GatewayError):
    """A missing or wrong API key or admin password."""

    status = 401
    kind = "authentication"


class Forbidden(GatewayError):
    """A request refused whatever its key (a foreign browser origin)."""

    status = 403
    kind = "permission"


class NotFound(GatewayError):
    """What the request names does not exist (a route, an account, a stored response...)."""

    status = 404
    kind = "not_found"


class UnknownModel(NotFound):
    """No account offers the model and no mapping resolves it."""


class PayloadTooLarge(GatewayError):
    """A request body (or one of its form fields) over its size limit."""

    status = 413
    kind = "payload_too_large"


class UnsupportedMediaType(GatewayError):
    """A body that is not JSON on a JSON route (so no web page can skip the CORS preflight)."""

    status = 415
    kind = "invalid_request"


class RequestTimeout(GatewayError):
    """The client took too long to send its request body."""

    status = 408
    kind = "timeout"


class ClientDisconnected(GatewayError):
    """The client hung up before the answer was complete (nginx's 499). Nobody reads the
    answer; the status exists so request logs and metrics can say what happened."""

    status = 499
    kind = "invalid_request"


class NotImplementedYet(GatewayError):
    """A registered route whose capability is not built yet."""

    status = 501
    kind = "not_implemented"


class NoAccount(GatewayError):
    """No upstream account can serve the request: 429 when all are rate limited, else 503."""

    kind = "overloaded"

    def __init__(
        self, message: str, *, retry_after: float | None = None, rate_limited: bool = False
    ) -> None:
        super().__init__(message, retry_after=retry_after)
        self.rate_limited = rate_limited

    @property
    def http_status(self) -> int:
        return 429 if self.rate_limited else 503


class UpstreamError(GatewayError):
    """The upstream answered with status >= 400 (or the connection failed: status 502/504)."""

    kind = "api_error"

    def __init__(
        self, status: int, body: str, *, retry_after: float | None = None, message: str = ""
    ) -> None:
        super().__init__(message or f"upstream returned HTTP {status}", retry_after=retry_after)
        self.upstream_status = status
        self.body = body

    @property
    def http_status(self) -> int:
        return self.upstream_status


class UpstreamLoginFailed(UpstreamError):
    """An account's token refresh failed for another reason than a revoked token (e.g.
    `invalid_client`, the token endpoint unreachable): the gateway's login with Google failed,
    not the client's key. The client sees 502 (refused) or 503 (unreachable), never a 401."""

    def __init__(self, cause: UpstreamError, email: str) -> None:
        super().__init__(
            502, cause.body, retry_after=cause.retry_after,
            message=f"the gateway could not log in to Google with account {email}: "
                    f"{cause.message}")
        self.unreachable = cause.upstream_status >= 500 and not cause.body
        self.token_status = cause.upstream_status

    @property
    def http_status(self) -> int:
        return 503 if self.unreachable else 502


_KIND_BY_STATUS = {
    400: "invalid_request",
    401: "authentication",
    403: "permission",
    404: "not_found",
    413: "payload_too_large",
    429: "rate_limit",
    501: "not_implemented",
    503: "overloaded",
    504: "timeout",
    529: "overloaded",
}


def kind_of(err: GatewayError) -> str:
    """The neutral kind, derived from the HTTP status for upstream errors."""
    if isinstance(err, UpstreamError | NoAccount):
        return _KIND_BY_STATUS.get(err.http_status, "api_error")
    return err.kind
