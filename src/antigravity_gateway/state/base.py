"""What the account pool shares between gateway instances, and the interface of its stores.

Each instance keeps its whole pool in memory (its local view: the hot path reads nothing else).
A store shares that view: `record` takes a change this instance made (never blocks), the store
hands other instances' changes to its `Listener` and, after (re)connecting, a full `Snapshot`.
It also coordinates token refreshes. Accounts travel as opaque JSON: `state` does not know them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import msgspec

from ..settings import Settings


class Cooldown(msgspec.Struct, frozen=True, kw_only=True, tag="cooldown"):
    """`email` may not serve `model` ("": anything) before `until` (unix seconds)."""

    email: str
    model: str
    until: float
    reason: str = ""


class Binding(msgspec.Struct, frozen=True, kw_only=True, tag="binding"):
    """A conversation (sticky session) bound to an account, last used at `at`."""

    session: str
    email: str
    at: float


class Current(msgspec.Struct, frozen=True, kw_only=True, tag="current"):
    """cache_first: the account every new conversation for `model` goes to."""

    model: str
    email: str


class AccountPut(msgspec.Struct, frozen=True, kw_only=True, tag="account"):
    """An account added or changed (flags, tokens, quota snapshot): its whole JSON."""

    email: str
    data: msgspec.Raw


class AccountGone(msgspec.Struct, frozen=True, kw_only=True, tag="gone"):
    """An account removed, by email."""

    email: str


class Cleared(msgspec.Struct, frozen=True, kw_only=True, tag="cleared"):
    """Every cooldown, binding and current account forgotten."""


class Routing(msgspec.Struct, frozen=True, kw_only=True, tag="routing"):
    """Settings that steer routing, changed through one instance (`ROUTING_SECTIONS` of the
    config as JSON); published to the running instances only, never stored."""

    data: msgspec.Raw


ROUTING_SECTIONS = ("models", "scheduling", "quota")


def routing_of(settings: Settings) -> Routing:
    """The routing sections of `settings`, to publish."""
    sections = {name: getattr(settings, name) for name in ROUTING_SECTIONS}
    return Routing(data=msgspec.Raw(msgspec.json.encode(sections)))


Change = Cooldown | Binding | Current | AccountPut | AccountGone | Cleared | Routing


class Snapshot(msgspec.Struct, kw_only=True):
    """The whole shared state, as loaded after (re)connecting."""

    cooldowns: list[Cooldown] = msgspec.field(default_factory=list)
    bindings: list[Binding] = msgspec.field(default_factory=list)
    currents: list[Current] = msgspec.field(default_factory=list)
    accounts: list[AccountPut] = msgspec.field(default_factory=list)


class Token(msgspec.Struct, frozen=True, kw_only=True):
    """An access token one instance refreshed, for the others to use."""

    access_token: str
    expires_at: float
    refresh_token: str = ""


class StateUnavailable(Exception):
    """The configured state backend cannot be reached at start-up (message for the user)."""


class Listener(Protocol):
    """What a store hands the shared state to: other instances' changes and whole snapshots."""

    def apply(self, change: Change) -> None:
        """A change another instance made."""

    def load(self, snapshot: Snapshot) -> None:
        """The whole shared state (after connecting, and again after a lost connection)."""

    def snapshot(self) -> Snapshot:
        """What this instance knows (seeds a store that lacks it, e.g. a restarted Redis)."""


class Store(Protocol):
    """Shares the pool's state; `memory.MemoryStore` (one process) shares nothing."""

    shared: bool  # True when other processes see what is recorded here
    connected: bool  # False while a shared store is unreachable (the instance runs alone)

    async def open(self, listener: Listener) -> None:
        """Connect, add what only this instance knows, load the rest into `listener`."""

    def record(self, change: Change) -> None:
        """A change this instance made; sent in the background, batched."""

    async def token(self, email: str) -> Token | None:
        """The freshest access token any instance stored for `email`."""

    async def put_token(self, email: str, token: Token) -> None:
        """Offer a token this instance just refreshed to the others."""

    def refresh_lock(self, email: str) -> AbstractAsyncContextManager[None]:
        """Held while refreshing `email`'s token: one refresh across instances."""

    async def close(self) -> None:
        """Send what is pending and disconnect."""


encode = msgspec.json.Encoder().encode
decode_change: Callable[[bytes], list[Change]] = msgspec.json.Decoder(list[Change]).decode
