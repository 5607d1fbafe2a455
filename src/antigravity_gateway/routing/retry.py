"""Upstream errors -> what to do next. Pure and table-tested.

`parse_retry_delay` reads how long the upstream asks us to wait; `classify` turns an
`UpstreamError` into a `Decision` (retry or not, cool the account+model or the whole account).
Unlike the reference, lockouts are not capped at 300 s: a quota cooldown lasts until the reset.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from ..errors import UpstreamError

Kind = Literal[
    "rate_limited", "quota_exhausted", "capacity", "server", "unauthorized", "verification",
    "forbidden", "not_found", "bad_request", "other",
]
RATE_LIMIT_DEFAULT = 5.0  # RATE_LIMIT_EXCEEDED without a delay (docs/upstream.md §10.2)
RATE_LIMIT_MINIMUM = 1.0
AMBIGUOUS_429 = 30.0  # "Resource has been exhausted" without details (reference: 30 s)
QUOTA_DEFAULT = 300.0  # QUOTA_EXHAUSTED without a delay: a quota fetch follows and tells more
CAPACITY_DEFAULT, CAPACITY_MAXIMUM = 2.0, 5.0  # global capacity: a brief backoff, not a lockout
FORBIDDEN_COOLDOWN = 300.0  # other 403s (service disabled, ToS): retry the account later
_QUOTA_REASONS = frozenset({"QUOTA_EXHAUSTED", "INSUFFICIENT_G1_CREDITS_BALANCE"})
_CAPACITY_REASONS = frozenset({"MODEL_CAPACITY_EXHAUSTED", "MODEL_CAPACITY_EXCEEDED"})
_QUOTA_WORDS = ("quota_exhausted", "quota reached", "quota exceeded", "per day", "daily quota")
_URL = re.compile(r"https://[^\s\"'<>]+")


@dataclass(frozen=True, slots=True)
class Decision:
    """What one failed attempt means for the request and for the account that served it."""

    kind: Kind
    retry: bool  # try again: another account, or this one once its cooldown is over
    cooldown: float = 0.0  # seconds the account may not serve ...
    whole_account: bool = False  # ... any model (else only the model that failed)
    verification_url: str = ""
    refresh_quota: bool = False  # the quota snapshot is stale: fetch it again


def classify(error: UpstreamError, *, now: float | None = None) -> Decision:
    """The decision table of the issue (and docs/upstream.md §10.2, fixed)."""
    status, body = error.upstream_status, error.body
    delay = error.retry_after if error.retry_after is not None else parse_retry_delay(body, now=now)
    if status == 429:
        return _too_many(body, delay)
    if status in (503, 529):
        return _capacity(delay)
    if status == 401:
        return Decision("unauthorized", retry=True)
    if status == 403:
        url = validation_url(body)
        if url is not None:
            return Decision("verification", retry=True, verification_url=url)
        return Decision("forbidden", retry=True, cooldown=FORBIDDEN_COOLDOWN, whole_account=True)
    if status == 404:
        return Decision("not_found", retry=True)  # this account may not have the model
    if status >= 500 or status == 408:
        return Decision("server", retry=True)  # every base URL failed already: next account
    if status == 400:
        return Decision("bad_request", retry=False)
    return Decision("other", retry=False)


def _too_many(body: str, delay: float | None) -> Decision:
    """Every 429 also asks for a quota refetch (the pipeline debounces it per account)."""
    reason = error_reason(body)
    if reason in _CAPACITY_REASONS:
        return dataclasses.replace(_capacity(delay), refresh_quota=True)
    lowered = body.lower()
    if reason in _QUOTA_REASONS or (reason is None and any(w in lowered for w in _QUOTA_WORDS)):
        cooldown = delay if delay is not None and delay > 0 else QUOTA_DEFAULT
        return Decision("quota_exhausted", retry=True, cooldown=cooldown, refresh_quota=True)
    if reason == "RATE_LIMIT_EXCEEDED" or delay is not None:
        cooldown = RATE_LIMIT_DEFAULT if delay is None else max(delay, RATE_LIMIT_MINIMUM)
        return Decision("rate_limited", retry=True, cooldown=cooldown, refresh_quota=True)
    return Decision("rate_limited", retry=True, cooldown=AMBIGUOUS_429, refresh_quota=True)


def _capacity(delay: float | None) -> Decision:
    cooldown = min(delay, CAPACITY_MAXIMUM) if delay is not None else CAPACITY_DEFAULT
    return Decision("capacity", retry=True, cooldown=max(cooldown, 0.5))


def error_reason(body: str) -> str | None:
    """`ErrorInfo.reason` of a Google error body (any position in `details`)."""
    error = _error_object(body)
    if error is None:
        return None
    for detail in _details(error):
        reason = detail.get("reason")
        if isinstance(reason, str) and reason:
            return reason
    return None


def validation_url(body: str) -> str | None:
    """The verification URL of a VALIDATION_REQUIRED 403 ("" when it names none), else None."""
    error = _error_object(body)
    lowered = body.lower()
    if "validation_required" not in lowered and "verify your account" not in lowered:
        return None
    for detail in _details(error or {}):
        metadata = detail.get("metadata")
        for key in ("validationUrl", "validation_link", "validation_url", "appeal_url"):
            if isinstance(metadata, dict) and isinstance(metadata.get(key), str):
                return str(metadata[key])
        for link in detail.get("links") or []:
            if isinstance(link, dict) and isinstance(link.get("url"), str):
                return str(link["url"])
    found = _URL.search(body.replace("\\u0026", "&"))
    return found.group(0) if found else ""

_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_DURATION = re.compile(r"^\s*((?:\d+(?:\.\d+)?(?:ms|us|µs|ns|h|m|s))+)\s*$")
_COMPONENT = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_UNIT = r"(?:milliseconds?|ms|hours?|h|minutes?|mins?|m|seconds?|secs?|s)(?![a-z])"
_MESSAGE = re.compile(
    r"(?:resets?(?:\s+(?:after|in))?|retry\s+(?:after|in)|try\s+again\s+in|wait|backoff\s+for)"
    r"\s+((?:\d+(?:\.\d+)?\s*" + _UNIT + r"[\s,]*)+)",
    re.IGNORECASE,
)
_MESSAGE_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(" + _UNIT + ")", re.IGNORECASE)


def parse_duration(text: str) -> float | None:
    """Go-style or proto durations: `1h16m0.667s`, `539.477544ms`, `0.5s`, `42s`."""
    text = text.strip().replace(" ", "")
    if not _DURATION.match(text):
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _COMPONENT.findall(text))


def parse_retry_delay(
    body: str, headers: Mapping[str, str] | None = None, *, now: float | None = None
) -> float | None:
    """Seconds to wait before the same account may retry, or None when the answer says nothing.

    First hit wins (docs/upstream.md §5.3): the `Retry-After` header, `RetryInfo.retryDelay`,
    `ErrorInfo.metadata.quotaResetDelay`, `quotaResetTimeStamp` (needs `now`), the message.
    """
    if headers:
        after = _header_delay(headers, now)
        if after is not None:
            return after
    error = _error_object(body)
    if error is not None:
        delay = _details_delay(error, now)
        if delay is not None:
            return delay
        message = error.get("message")
        if isinstance(message, str):
            return _message_delay(message)
    return _message_delay(body)


def _header_delay(headers: Mapping[str, str], now: float | None) -> float | None:
    """`retry-after-ms`, then `Retry-After` in seconds or as an HTTP date (needs `now`)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    with contextlib.suppress(ValueError):
        if millis := lowered.get("retry-after-ms"):
            return max(0.0, float(millis) / 1000)
    value = lowered.get("retry-after", "").strip()
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError):
        if now is not None:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    return None


def _error_object(body: str) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body)
    except (ValueError, TypeError):
        return None
    if isinstance(parsed, list) and parsed:  # some bodies are a one-element array
        parsed = parsed[0]
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else None


def _details(error: dict[str, Any]) -> Iterator[dict[str, Any]]:
    details = error.get("details")
    if isinstance(details, list):
        yield from (d for d in details if isinstance(d, dict))


def _details_delay(error: dict[str, Any], now: float | None) -> float | None:
    for detail in _details(error):
        delay = detail.get("retryDelay")
        if isinstance(delay, str) and (seconds := parse_duration(delay)) is not None:
            return seconds
    for detail in _details(error):
        metadata = detail.get("metadata")
        if not isinstance(metadata, dict):
            continue
        delay = metadata.get("quotaResetDelay")
        if isinstance(delay, str) and (seconds := parse_duration(delay)) is not None:
            return seconds
        stamp = metadata.get("quotaResetTimeStamp")
        if isinstance(stamp, str) and now is not None and (at := _timestamp(stamp)) is not None:
            return max(0.0, at - now)
    return None


def _timestamp(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _message_delay(message: str) -> float | None:
    """"reset after 2m30s", "Resets in 9h22m20s", "try again in 2m 30s", "(wait 5s)"..."""
    match = _MESSAGE.search(message)
    if not match:
        return None
    total = 0.0
    for number, unit in _MESSAGE_PART.findall(match.group(1)):
        unit = unit.lower()
        key = "ms" if unit == "ms" or unit.startswith("milli") else unit[0]
        total += float(number) * _UNIT_SECONDS[key]
    return total
