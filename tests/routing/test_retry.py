"""Every delay format of docs/upstream.md §5.3, read by parse_retry_delay."""

import json

import pytest

from antigravity_gateway.routing.retry import parse_duration, parse_retry_delay

QUOTA_EXHAUSTED = {
    "error": {
        "code": 429,
        "message": "Individual quota reached. Resets in 9h22m20s.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "QUOTA_EXHAUSTED",
                "domain": "cloudcode-pa.googleapis.com",
                "metadata": {
                    "uiMessage": "true",
                    "model": "gemini-3.5-flash",
                    "quotaResetDelay": "33740.910400305s",
                    "quotaResetTimeStamp": "2026-09-20T21:03:14Z",
                },
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "33740.910400305s"},
        ],
    }
}
RATE_LIMITED = {
    "error": {
        "code": 429,
        "message": "You have exhausted your capacity on this model. "
        "Your quota will reset after 0s.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "metadata": {"quotaResetDelay": "539.477544ms"},
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.539477544s"},
        ],
    }
}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0.539477544s", 0.539477544),
        ("539.477544ms", 0.539477544),
        ("33740.910400305s", 33740.910400305),
        ("42s", 42.0),
        ("600s", 600.0),
        ("1h16m0.667s", 4560.667),
        ("5m30s", 330.0),
        ("200ms", 0.2),
        ("19h14m47s", 69287.0),
        ("3h2m1s", 10921.0),
        ("1.5s", 1.5),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "5", "s", "1x", "-1s"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


def _without_details(body: dict, *keep: str) -> dict:
    error = dict(body["error"])
    error["details"] = [d for d in error["details"] if any(k in json.dumps(d) for k in keep)]
    return {"error": error}


@pytest.mark.parametrize(
    ("body", "headers", "now", "seconds"),
    [
        (QUOTA_EXHAUSTED, None, None, 33740.910400305),  # RetryInfo first
        (RATE_LIMITED, None, None, 0.539477544),
        (_without_details(RATE_LIMITED, "quotaResetDelay"), None, None, 0.539477544),
        # only the timestamp: needs a clock
        (
            {"error": {"details": [{"metadata": {"quotaResetTimeStamp": "2026-09-20T21:03:14Z"}}]}},
            None,
            1789938194.0 - 100,
            100.0,
        ),
        # human messages
        ({"error": {"message": "Your quota will reset after 2m30s."}}, None, None, 150.0),
        (
            {"error": {"message": "Individual quota reached. Resets in 9h22m20s."}},
            None,
            None,
            33740.0,
        ),
        ({"error": {"message": "Please retry in 1.5s"}}, None, None, 1.5),
        ({"error": {"message": "reset after 0s."}}, None, None, 0.0),
        # header wins
        (RATE_LIMITED, {"Retry-After": "7"}, None, 7.0),
        # one-element array body
        ([RATE_LIMITED], None, None, 0.539477544),
    ],
)
def test_delays(body: object, headers: dict | None, now: float | None, seconds: float) -> None:
    assert parse_retry_delay(json.dumps(body), headers, now=now) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "body",
    [
        {
            "error": {
                "code": 429,
                "message": "Resource has been exhausted (e.g. check quota).",
                "status": "RESOURCE_EXHAUSTED",
            }
        },
        {"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}},
        "not json at all",
    ],
)
def test_no_delay(body: object) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    assert parse_retry_delay(text, {}) is None


def test_timestamp_without_clock_is_ignored() -> None:
    body = {"error": {"details": [{"metadata": {"quotaResetTimeStamp": "2026-09-20T21:03:14Z"}}]}}
    assert parse_retry_delay(json.dumps(body)) is None


@pytest.mark.parametrize(
    ("message", "seconds"),
    [
        # every human form of docs/upstream.md §5.2-5.3
        ("You have exhausted your capacity on this model. Your quota will reset after 0s.", 0.0),
        ("Your quota will reset after 19h14m47s.", 69287.0),
        ("Individual quota reached. Resets in 9h22m20s.", 33740.0),
        ("Please retry in 1.5s", 1.5),
        ("Please retry in 539.477544ms", 0.539477544),
        ("Rate limited, try again in 2m 30s", 150.0),
        ("quota will reset in 5 seconds", 5.0),
        ("retry after 30 seconds", 30.0),
        ("Too many requests (wait 12s)", 12.0),
        ("backoff for 500 milliseconds", 0.5),
        ("retry in 2 minutes, 3 seconds", 123.0),
        ("reset after 1h16m0.667s", 4560.667),
    ],
)
def test_message_delays(message: str, seconds: float) -> None:
    assert parse_retry_delay(json.dumps({"error": {"message": message}})) == pytest.approx(seconds)
    assert parse_retry_delay(message) == pytest.approx(seconds)  # a plain-text body


@pytest.mark.parametrize(
    ("headers", "now", "seconds"),
    [
        ({"Retry-After": "7"}, None, 7.0),
        ({"retry-after": "2.5"}, None, 2.5),
        ({"retry-after-ms": "1500", "Retry-After": "9"}, None, 1.5),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 1445412470.0, 10.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None, None),
        ({"Retry-After": "soon"}, None, None),
    ],
)
def test_header_delays(headers: dict[str, str], now: float | None, seconds: float | None) -> None:
    assert parse_retry_delay("", headers, now=now) == (
        None if seconds is None else pytest.approx(seconds))
