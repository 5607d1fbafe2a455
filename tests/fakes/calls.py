"""`Record` (what the simulator received) and `Call` (what a method handler is given).

Records are appended for every request, including OAuth calls, faults and dropped connections.
Deliberately plain dataclasses: filtering helpers live on `FakeGoogle.calls()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.accounts import Account

if TYPE_CHECKING:
    from tests.fakes.cloudcode import FakeGoogle


@dataclass
class Record:
    host: str  # "sandbox" | "daily" | "prod" | "oauth" | an unknown (dead) prefix
    method: str  # "streamGenerateContent", "loadCodeAssist", "operation", "token", "userinfo", ...
    http_method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]  # case-insensitive
    body: Any  # parsed JSON, the form dict for /token, None when empty or unparsable
    raw: bytes = b""
    email: str | None = None  # account resolved from the bearer token or the OAuth grant
    status: int | None = None  # status answered (None: connection dropped)
    time: float = 0.0
    # time.monotonic() when the peer closed the connection before the answer was complete
    peer_closed_at: float | None = None

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def request(self) -> dict[str, Any]:
        """The inner `request` of a v1internal envelope ({} when absent)."""
        inner = self.body.get("request") if isinstance(self.body, dict) else None
        return inner if isinstance(inner, dict) else {}


@dataclass
class Call:
    fake: FakeGoogle
    record: Record
    host: str
    method: str
    body: dict[str, Any]
    account: Account
    trace_id: str
    query: dict[str, str] = field(default_factory=dict)
    operation: str = ""  # GET /v1internal/<operation name>

    @property
    def now(self) -> float:
        return self.fake.now()
