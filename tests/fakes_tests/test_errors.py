"""Canned error bodies and the duration formats they use (docs/upstream.md §5.3)."""

from __future__ import annotations

import json

import pytest

from tests.fakes import errors
from tests.fakes_tests.helpers import Client, envelope

INFO, RETRY = errors.ERROR_INFO, errors.RETRY_INFO


def test_duration_formats() -> None:
    assert (
        errors.proto_duration(0.539477544) == "0.539477544s" and errors.proto_duration(40) == "40s"
    )
    assert (
        errors.go_delay(0.539477544) == "539.477544ms"
        and errors.go_delay(33740.910400305) == "33740.910400305s"
    )
    assert (
        errors.human_delay(33740.9) == "9h22m20s"
        and errors.human_delay(0.5) == "0s"
        and errors.human_delay(330) == "5m30s"
    )
    assert errors.rfc3339(0) == "1970-01-01T00:00:00Z"


def test_rate_limit_exceeded() -> None:
    assert errors.rate_limit_exceeded("gemini-3-flash").body == {
        "error": {
            "code": 429,
            "message": "You have exhausted your capacity on this model. "
            "Your quota will reset after 0s.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": INFO,
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "cloudcode-pa.googleapis.com",
                    "metadata": {"model": "gemini-3-flash", "quotaResetDelay": "539.477544ms"},
                },
                {"@type": RETRY, "retryDelay": "0.539477544s"},
            ],
        }
    }


def test_quota_exhausted_is_consistent() -> None:
    error = errors.quota_exhausted("gemini-3.5-flash", 33740.910400305, now=1790000000).body[
        "error"
    ]
    assert error["message"].endswith("Resets in 9h22m20s.")
    info, retry = error["details"]
    assert info["metadata"] == {
        "uiMessage": "true",
        "model": "gemini-3.5-flash",
        "quotaResetDelay": "33740.910400305s",
        "quotaResetTimeStamp": errors.rfc3339(1790000000 + 33740.910400305),
    }
    assert retry == {"@type": RETRY, "retryDelay": "33740.910400305s"}


def test_bare_429_and_capacity() -> None:
    assert errors.resource_exhausted().body == {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted (e.g. check quota).",
            "status": "RESOURCE_EXHAUSTED",
        }
    }
    unavailable = errors.capacity_exhausted("claude-sonnet-4-6")
    assert unavailable.status == 503 and list(unavailable.body["error"]) == [
        "code",
        "details",
        "message",
        "status",
    ]
    assert (
        unavailable.body["error"]["message"]
        == "No capacity available for model claude-sonnet-4-6 on the server"
    )
    assert unavailable.body["error"]["details"][0]["reason"] == "MODEL_CAPACITY_EXHAUSTED"
    assert unavailable.body["error"]["details"][1]["retryDelay"] == "40s"
    as_429 = errors.capacity_exhausted(status=429, retry_delay=None).body["error"]
    assert as_429["status"] == "RESOURCE_EXHAUSTED" and len(as_429["details"]) == 1


def test_403s() -> None:
    validation = errors.validation_required().body["error"]
    assert (validation["code"], validation["status"], validation["message"]) == (
        403,
        "PERMISSION_DENIED",
        "Verify your account to continue.",
    )
    info, help_ = validation["details"]
    assert (
        info["reason"] == "VALIDATION_REQUIRED"
        and info["metadata"]["validation_link"] == errors.VALIDATION_URL
    )
    assert (
        help_["links"][0]["url"] == errors.VALIDATION_URL
        and help_["links"][1]["description"] == "Learn more"
    )
    disabled = errors.service_disabled("42").body["error"]
    assert (
        disabled["details"][0]["reason"] == "SERVICE_DISABLED"
        and "project 42" in disabled["message"]
    )


@pytest.mark.parametrize(
    "fault, code, status",
    [
        (errors.not_found(), 404, "NOT_FOUND"),
        (errors.internal_error(), 500, "INTERNAL"),
        (errors.insufficient_credits(), 429, "RESOURCE_EXHAUSTED"),
        (errors.unauthenticated(), 401, "UNAUTHENTICATED"),
        (errors.corrupted_thought_signature(), 400, "INVALID_ARGUMENT"),
        (errors.missing_thought_signature("ls", 2), 400, "INVALID_ARGUMENT"),
        (errors.claude_invalid_signature(), 400, "INVALID_ARGUMENT"),
        (errors.vertex_rate_limited(), 429, "RESOURCE_EXHAUSTED"),
    ],
)
def test_simple_errors(fault: errors.Fault, code: int, status: str) -> None:
    assert fault.status == code and (
        fault.body["error"]["code"],
        fault.body["error"]["status"],
    ) == (code, status)


def test_signature_variants() -> None:
    inner = json.loads(errors.claude_invalid_signature(1, 0).body["error"]["message"])
    assert (
        inner["error"]["message"] == "messages.1.content.0: Invalid `signature` in `thinking` block"
    )
    assert inner["request_id"].startswith("req_vrtx_")
    [vertex] = errors.vertex_invalid_signature().body
    assert vertex["error"]["errors"][0]["reason"] == "badRequest"
    assert "position 2" in errors.missing_thought_signature("ls", 2).body["error"]["message"]


async def test_faults_are_pretty_printed_on_the_wire(client: Client) -> None:
    client.fake.script(
        errors.rate_limit_exceeded().in_array(), errors.Fault(418, "teapot", {"Retry-After": "3"})
    )
    status, headers, raw = await client.call("generateContent", envelope())
    assert status == 429 and raw.startswith(b'[\n  {\n    "error": {\n      "code": 429,')
    assert (
        headers["Content-Type"] == "application/json; charset=UTF-8" and headers["Server"] == "ESF"
    )
    status, headers, raw = await client.call("generateContent", envelope())
    assert (status, raw, headers["Retry-After"]) == (418, b"teapot", "3")
