"""How long the upstream asks us to wait, read from an error answer. Pure and table-tested.

Sources, first hit wins (cloudcode-v1internal.md §4.3): the `Retry-After` header,
`RetryInfo.retryDelay`, `ErrorInfo.metadata.quotaResetDelay`, `quotaResetTimeStamp` (needs `now`),
then the human message ("reset after 2m30s", "Resets in 9h22m20s", "retry in 1.5s").
It decides nothing about what to do next; the retry policy builds on it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_DURATION = re.compile(r"^\s*((?:\d+(?:\.\d+)?(?:ms|us|µs|ns|h|m|s))+)\s*$")
_COMPONENT = re.compile(r"(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)")
_MESSAGE = re.compile(
    r"(?:reset(?:s)?(?: after| in)?|retry (?:after|in))\s+((?:\d+(?:\.\d+)?\s*(?:ms|h|m|s)\s*)+)",
    re.IGNORECASE,
)


def parse_duration(text: str) -> float | None:
    """Go-style or proto durations: `1h16m0.667s`, `539.477544ms`, `0.5s`, `42s`."""
    text = text.strip().replace(" ", "")
    if not _DURATION.match(text):
        return None
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _COMPONENT.findall(text))


def parse_retry_delay(
    body: str, headers: Mapping[str, str] | None = None, *, now: float | None = None
) -> float | None:
    """Seconds to wait before the same account may retry, or None when the answer says nothing."""
    if headers:
        after = _header_delay(headers)
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


def _header_delay(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After") or headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
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
    match = _MESSAGE.search(message)
    if not match:
        return None
    return parse_duration(match.group(1).replace(" ", ""))
