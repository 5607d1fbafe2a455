"""Google-shaped error replies of the simulator: `Fault`, `Disconnect` and canned constructors.

Bodies follow docs/upstream.md §5 (ErrorInfo first, RetryInfo second, sent
pretty-printed with a 2-space indent). Constructors only build values; the server sends them.
Deliberately not modelled: QuotaFailure/DebugInfo details, gzip, the doubled-comma SSE quirk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

DOMAIN = "cloudcode-pa.googleapis.com"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
HELP = "type.googleapis.com/google.rpc.Help"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
VALIDATION_URL = "https://accounts.google.com/signin/continue?sarp=1&scc=1&plt=FAKE-VALIDATION"
LEARN_MORE_URL = "https://support.google.com/accounts?p=al_alert"


@dataclass(frozen=True)
class Fault:
    """An HTTP error (or any canned answer): status, JSON body (or raw str/bytes), extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering

    def encode(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, indent=2, ensure_ascii=False).encode() + b"\n"

    def in_array(self) -> Fault:
        """The same error in a one-element JSON array (seen for some 400/429 passthroughs)."""
        return replace(self, body=[self.body])

    def after(self, seconds: float) -> Fault:
        return replace(self, delay=seconds)


@dataclass(frozen=True)
class Disconnect:
    """Close the connection without answering (a network-level failure of a host)."""

    delay: float = 0.0


class FaultError(Exception):
    """Raised inside the simulator to answer the current request with `fault`."""

    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.status)
        self.fault = fault


def google_error(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> Fault:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return Fault(code, {"error": error})


def error_info(
    reason: str, metadata: dict[str, str] | None = None, domain: str | None = DOMAIN
) -> dict[str, Any]:
    info: dict[str, Any] = {"@type": ERROR_INFO, "reason": reason}
    if domain:
        info["domain"] = domain
    if metadata:
        info["metadata"] = metadata
    return info


def retry_info(delay: str) -> dict[str, Any]:
    return {"@type": RETRY_INFO, "retryDelay": delay}


# ---- duration formats (docs/upstream.md §5.3) ------------------------------------------


def proto_duration(seconds: float) -> str:
    """Proto Duration JSON: decimal seconds + "s" ("0.539477544s", "40s")."""
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{seconds:.9f}".rstrip("0") + "s"


def go_delay(seconds: float) -> str:
    """`quotaResetDelay` as observed: ms below 1 s ("539.477544ms"), else seconds ("42s")."""
    if seconds < 1:
        ms = f"{seconds * 1000:.6f}".rstrip("0").rstrip(".")
        return f"{ms}ms"
    return proto_duration(seconds)


def human_delay(seconds: float) -> str:
    """Compact `XhYmZs` used in messages ("9h22m20s", "3s", "0s")."""
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- 429 / 503 -----------------------------------------------------------------------------------


def rate_limit_exceeded(model: str = "gemini-3-flash", delay: float = 0.539477544) -> Fault:
    """Short per-minute limit: retry the same account after `delay` seconds."""
    message = (
        "You have exhausted your capacity on this model. "
        f"Your quota will reset after {human_delay(delay)}."
    )
    details = [
        error_info("RATE_LIMIT_EXCEEDED", {"model": model, "quotaResetDelay": go_delay(delay)}),
        retry_info(proto_duration(delay)),
    ]
    return google_error(429, "RESOURCE_EXHAUSTED", message, details)


def quota_exhausted(
    model: str = "gemini-3-flash", reset_in: float = 33740.910400305, now: float | None = None
) -> Fault:
    """Terminal for this model until the reset; `now` (epoch s) anchors quotaResetTimeStamp."""
    reset_at = rfc3339((now if now is not None else datetime.now(UTC).timestamp()) + reset_in)
    message = (
        "Individual quota reached. Please upgrade your subscription to increase your limits. "
        f"Resets in {human_delay(reset_in)}."
    )
    metadata = {
        "uiMessage": "true",
        "model": model,
        "quotaResetDelay": go_delay(reset_in),
        "quotaResetTimeStamp": reset_at,
    }
    details = [error_info("QUOTA_EXHAUSTED", metadata), retry_info(proto_duration(reset_in))]
    return google_error(429, "RESOURCE_EXHAUSTED", message, details)


def resource_exhausted() -> Fault:
    """The bare, ambiguous 429 without any details."""
    return google_error(
        429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."
    )


def capacity_exhausted(
    model: str = "gemini-3-flash", status: int = 503, retry_delay: str | None = "40s"
) -> Fault:
    """Global capacity problem (503 UNAVAILABLE or 429); keys in the captured 503's order."""
    details = [error_info("MODEL_CAPACITY_EXHAUSTED", {"model": model})]
    if retry_delay:
        details.append(retry_info(retry_delay))
    code_name = "UNAVAILABLE" if status == 503 else "RESOURCE_EXHAUSTED"
    error = {
        "code": status,
        "details": details,
        "message": f"No capacity available for model {model} on the server",
        "status": code_name,
    }
    return Fault(status, {"error": error})


def insufficient_credits() -> Fault:
    message = "Insufficient Google One AI credits balance to serve this request."
    return google_error(
        429,
        "RESOURCE_EXHAUSTED",
        message,
        [error_info("INSUFFICIENT_G1_CREDITS_BALANCE", domain=None)],
    )


def vertex_rate_limited() -> Fault:
    """Vertex-style passthrough with the legacy `errors` list."""
    message = "Resource exhausted. Please try again later."
    fault = google_error(429, "RESOURCE_EXHAUSTED", message)
    fault.body["error"]["errors"] = [
        {"message": message, "domain": "global", "reason": "rateLimitExceeded"}
    ]
    return fault


# ---- 4xx / 5xx -----------------------------------------------------------------------------------


def validation_required(url: str = VALIDATION_URL) -> Fault:
    details = [
        error_info("VALIDATION_REQUIRED", {"validation_link": url, "validationUrl": url}),
        {
            "@type": HELP,
            "links": [
                {"description": "Verify your account", "url": url},
                {"description": "Learn more", "url": LEARN_MORE_URL},
            ],
        },
    ]
    return google_error(403, "PERMISSION_DENIED", "Verify your account to continue.", details)


def service_disabled(project_number: str = "681255809395") -> Fault:
    url = f"https://console.developers.google.com/apis/api/cloudcode-pa.googleapis.com/overview?project={project_number}"
    message = (
        f"Cloud Code Private API has not been used in project {project_number} before or it is "
        "disabled. "
        f"Enable it by visiting {url} then retry. If you enabled this API recently, wait a few "
        "minutes for "
        "the action to propagate to our systems and retry."
    )
    metadata = {
        "consumer": f"projects/{project_number}",
        "service": DOMAIN,
        "activationUrl": url,
        "serviceTitle": "Cloud Code Private API",
    }
    details = [
        error_info("SERVICE_DISABLED", metadata, domain="googleapis.com"),
        {
            "@type": HELP,
            "links": [{"description": "Google developers console API activation", "url": url}],
        },
    ]
    return google_error(403, "PERMISSION_DENIED", message, details)


def permission_denied(message: str = "The caller does not have permission") -> Fault:
    return google_error(403, "PERMISSION_DENIED", message)


def not_found() -> Fault:
    return google_error(404, "NOT_FOUND", "Requested entity was not found.")


def internal_error() -> Fault:
    return google_error(500, "INTERNAL", "Internal error encountered.")


def unauthenticated(reason: str = "ACCESS_TOKEN_TYPE_UNSUPPORTED") -> Fault:
    """401 for a missing (reason CREDENTIALS_MISSING), unknown or expired access token."""
    start = (
        "Request is missing required" if reason == "CREDENTIALS_MISSING" else "Request had invalid"
    )
    message = (
        f"{start} authentication credentials. Expected OAuth 2 access token, login cookie or other "
        "valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
    )
    return google_error(
        401,
        "UNAUTHENTICATED",
        message,
        [error_info(reason, {"service": DOMAIN}, domain="googleapis.com")],
    )


def invalid_argument(message: str, field_path: str | None = None) -> Fault:
    details = None
    if field_path is not None:
        details = [
            {
                "@type": BAD_REQUEST,
                "fieldViolations": [{"field": field_path, "description": message}],
            }
        ]
    return google_error(400, "INVALID_ARGUMENT", message, details)


def failed_precondition(message: str = "Precondition check failed.") -> Fault:
    return google_error(400, "FAILED_PRECONDITION", message)


# ---- thought-signature rejections (docs/upstream.md §5.2, §8) --------------------------


def missing_thought_signature(name: str, position: int) -> Fault:
    message = (
        "Function call is missing a thought_signature in functionCall parts. This is required for "
        "tools to work "
        "correctly, and missing thought_signature may lead to degraded model performance. "
        "Additional data, "
        f"function call `default_api:{name}` , position {position}. Please refer to "
        "https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
    )
    return invalid_argument(message)


def corrupted_thought_signature() -> Fault:
    return invalid_argument("Corrupted thought signature.")


def anthropic_error(message: str, request_id: str = "req_vrtx_011CSimulatorRequest") -> Fault:
    """Claude backend errors arrive as a JSON string inside `error.message` (§7.2)."""
    inner = {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": message},
        "request_id": request_id,
    }
    return invalid_argument(json.dumps(inner, separators=(",", ":")))


def claude_invalid_signature(message_index: int = 1, content_index: int = 0) -> Fault:
    return anthropic_error(
        f"messages.{message_index}.content.{content_index}: Invalid `signature` in `thinking` block"
    )


def vertex_invalid_signature() -> Fault:
    """Vertex-side Claude variant: `errors[{reason:"badRequest"}]`, wrapped in a JSON array."""
    message = (
        "Unable to submit request because Thought signature is not valid.. Learn more: "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini"
    )
    fault = invalid_argument(message)
    fault.body["error"]["errors"] = [
        {"message": message, "domain": "global", "reason": "badRequest"}
    ]
    return fault.in_array()
