"""classify(error) -> Decision, for every error of docs/upstream.md §5.2 (bodies from the
simulator's canned constructors, which follow that catalogue)."""

from __future__ import annotations

import json

import pytest

from antigravity_gateway.errors import UpstreamError
from antigravity_gateway.routing import retry
from antigravity_gateway.routing.retry import classify, error_reason, validation_url
from tests.fakes import (
    Fault,
    capacity_exhausted,
    claude_invalid_signature,
    insufficient_credits,
    internal_error,
    invalid_argument,
    not_found,
    permission_denied,
    quota_exhausted,
    rate_limit_exceeded,
    resource_exhausted,
    service_disabled,
    unauthenticated,
    validation_required,
    vertex_rate_limited,
)
from tests.fakes.errors import VALIDATION_URL

NOW = 1_800_000_000.0


def error_of(fault: Fault, headers: dict[str, str] | None = None) -> UpstreamError:
    body = fault.encode().decode()
    delay = retry.parse_retry_delay(body, headers or fault.headers)
    return UpstreamError(fault.status, body, retry_after=delay)


# (fault, kind, retry, cooldown seconds, whole account)
TABLE = [
    (quota_exhausted(reset_in=33740.910400305), "quota_exhausted", True, 33740.910400305, False),
    (quota_exhausted(reset_in=150), "quota_exhausted", True, 150, False),
    (insufficient_credits(), "quota_exhausted", True, retry.QUOTA_DEFAULT, False),
    (rate_limit_exceeded(delay=3.5), "rate_limited", True, 3.5, False),
    (rate_limit_exceeded(delay=0.2), "rate_limited", True, retry.RATE_LIMIT_MINIMUM, False),
    (resource_exhausted(), "rate_limited", True, retry.AMBIGUOUS_429, False),
    (vertex_rate_limited(), "rate_limited", True, retry.AMBIGUOUS_429, False),
    (capacity_exhausted(status=503), "capacity", True, retry.CAPACITY_MAXIMUM, False),
    (capacity_exhausted(status=429, retry_delay="1s"), "capacity", True, 1.0, False),
    (capacity_exhausted(retry_delay=None), "capacity", True, retry.CAPACITY_DEFAULT, False),
    (Fault(529, "overloaded"), "capacity", True, retry.CAPACITY_DEFAULT, False),
    (internal_error(), "server", True, 0, False),
    (Fault(502, ""), "server", True, 0, False),
    (Fault(504, ""), "server", True, 0, False),
    (Fault(408, ""), "server", True, 0, False),
    (unauthenticated(), "unauthorized", True, 0, False),
    (validation_required(), "verification", True, 0, False),
    (service_disabled(), "forbidden", True, retry.FORBIDDEN_COOLDOWN, True),
    (permission_denied(), "forbidden", True, retry.FORBIDDEN_COOLDOWN, True),
    (not_found(), "not_found", True, 0, False),
    (invalid_argument("Request contains an invalid argument."), "bad_request", False, 0, False),
    (claude_invalid_signature(), "bad_request", False, 0, False),
    (Fault(413, "too large"), "other", False, 0, False),
]


@pytest.mark.parametrize(("fault", "kind", "again", "cooldown", "whole"), TABLE)
def test_decision_table(fault: Fault, kind: str, again: bool, cooldown: float, whole: bool) -> None:
    decision = classify(error_of(fault), now=NOW)
    assert (decision.kind, decision.retry, decision.whole_account) == (kind, again, whole)
    assert decision.cooldown == pytest.approx(cooldown)


def test_every_429_asks_for_a_quota_refetch() -> None:
    for fault in (quota_exhausted(), rate_limit_exceeded(), resource_exhausted(),
                  capacity_exhausted(status=429)):
        assert classify(error_of(fault)).refresh_quota
    assert not classify(error_of(capacity_exhausted(status=503))).refresh_quota


def test_retry_after_header_sets_the_cooldown() -> None:
    decision = classify(error_of(resource_exhausted(), {"Retry-After": "12"}))
    assert (decision.kind, decision.cooldown) == ("rate_limited", 12.0)


def test_reset_timestamp_alone_needs_the_clock() -> None:
    body = {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "Quota exceeded.",
                      "details": [{"reason": "QUOTA_EXHAUSTED",
                                   "metadata": {"quotaResetTimeStamp": "2027-01-15T08:00:40Z"}}]}}
    decision = classify(UpstreamError(429, json.dumps(body)), now=NOW)
    assert (decision.kind, decision.cooldown) == ("quota_exhausted", pytest.approx(40.0))


def test_quota_text_without_details() -> None:
    body = {"error": {"code": 429, "message": "Individual quota reached. Resets in 2m30s."}}
    decision = classify(UpstreamError(429, json.dumps(body)))
    assert (decision.kind, decision.cooldown) == ("quota_exhausted", 150.0)


def test_validation_url_sources() -> None:
    assert validation_url(validation_required().encode().decode()) == VALIDATION_URL
    help_only = {"error": {"code": 403, "message": "Verify your account to continue.",
                           "details": [{"links": [{"url": "https://verify.example/a"}]}]}}
    assert validation_url(json.dumps(help_only)) == "https://verify.example/a"
    text = 'VALIDATION_REQUIRED: open https://accounts.google.com/x?a=1\\u0026b=2 "'
    assert validation_url(text) == "https://accounts.google.com/x?a=1&b=2"
    assert validation_url("Verify your account to continue.") == ""
    assert validation_url(permission_denied().encode().decode()) is None


def test_error_reason() -> None:
    assert error_reason(quota_exhausted().encode().decode()) == "QUOTA_EXHAUSTED"
    assert error_reason(json.dumps([json.loads(rate_limit_exceeded().encode())])) == (
        "RATE_LIMIT_EXCEEDED")
    assert error_reason("not json") is None
