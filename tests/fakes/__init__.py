"""Test doubles of external services. `tests.fakes.cloudcode` simulates Google (v1internal + OAuth).

Everything a test needs is re-exported here: `from tests.fakes import run_fake, text, ...`.
The `cloudcode` names load lazily so that `python -m tests.fakes.cloudcode` runs cleanly.
"""

from typing import TYPE_CHECKING, Any

from tests.fakes.accounts import Account
from tests.fakes.calls import Record
from tests.fakes.catalogue import ModelSpec
from tests.fakes.errors import (
    Disconnect,
    Fault,
    anthropic_error,
    capacity_exhausted,
    claude_invalid_signature,
    corrupted_thought_signature,
    failed_precondition,
    insufficient_credits,
    internal_error,
    invalid_argument,
    missing_thought_signature,
    not_found,
    permission_denied,
    quota_exhausted,
    rate_limit_exceeded,
    resource_exhausted,
    service_disabled,
    unauthenticated,
    validation_required,
    vertex_invalid_signature,
    vertex_rate_limited,
)
from tests.fakes.scripts import (
    BrokenStream,
    Reply,
    delay,
    empty,
    finish,
    part,
    text,
    thinking,
    tool_call,
    usage,
)

__all__ = [
    "Account",
    "BrokenStream",
    "Disconnect",
    "FakeGoogle",
    "FakeGoogleThread",
    "FakeOptions",
    "Fault",
    "ModelSpec",
    "Record",
    "Reply",
    "anthropic_error",
    "capacity_exhausted",
    "claude_invalid_signature",
    "corrupted_thought_signature",
    "delay",
    "empty",
    "failed_precondition",
    "finish",
    "insufficient_credits",
    "internal_error",
    "invalid_argument",
    "missing_thought_signature",
    "not_found",
    "part",
    "permission_denied",
    "quota_exhausted",
    "rate_limit_exceeded",
    "resource_exhausted",
    "run_fake",
    "seed_accounts",
    "service_disabled",
    "text",
    "thinking",
    "tool_call",
    "unauthenticated",
    "usage",
    "validation_required",
    "vertex_invalid_signature",
    "vertex_rate_limited",
]

if TYPE_CHECKING:
    from tests.fakes.cloudcode import (
        FakeGoogle,
        FakeGoogleThread,
        FakeOptions,
        run_fake,
        seed_accounts,
    )

_CLOUDCODE_NAMES = ("FakeGoogle", "FakeGoogleThread", "FakeOptions", "run_fake", "seed_accounts")


def __getattr__(name: str) -> Any:
    if name in _CLOUDCODE_NAMES:
        from tests.fakes import cloudcode

        return getattr(cloudcode, name)
    raise AttributeError(f"module 'tests.fakes' has no attribute {name!r}")
