"""The in-memory account pool: which account serves the next request for a model. Pure.

Eligible accounts (`candidates`), then a sticky session, then by mode: balance (power of two
choices on remaining quota within the best tier), cache_first or round_robin (docs/upstream.md
§10.1 without its quirks). Clock and randomness are injected; no IO: every change goes to
`record` for a `state` store to share, and other instances' come in through `apply` and `load`.
"""

from __future__ import annotations

import random
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import assert_never

import msgspec

from ..settings import Settings
from ..state.base import (
    AccountGone,
    AccountPut,
    Binding,
    Change,
    Cleared,
    Current,
    Routing,
    Snapshot,
)
from ..state.base import Cooldown as Cooldown  # noqa: PLC0414 - re-exported (server.admin)
from .store import Account, ModelQuota

ANY_MODEL = ""  # a cooldown of the whole account
MAX_SESSIONS = 10_000  # sticky bindings kept (the least recently used are forgotten)
_encode = msgspec.json.Encoder().encode
_decode_account = msgspec.json.Decoder(Account).decode


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """How the pool picks: scheduling mode, sticky-session TTL, quota protection threshold."""

    mode: str = "balance"  # balance | cache_first | round_robin
    sticky_ttl: float = 600.0
    protection_threshold: float = 0.0  # percent

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(
            mode=settings.scheduling.mode,
            sticky_ttl=settings.scheduling.sticky_ttl_seconds,
            protection_threshold=settings.quota.protection_threshold,
        )


def tier_rank(tier: str) -> int:
    """ultra 0, pro 1, anything else (free, standard, unknown) 2."""
    lowered = tier.lower()
    return 0 if "ultra" in lowered else 1 if "pro" in lowered else 2


def reset_epoch(quota: ModelQuota) -> float:
    """The RFC 3339 reset time as unix seconds (0 when absent or unreadable)."""
    try:
        return datetime.fromisoformat(quota.reset_time.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


class Pool:
    """Accounts, cooldowns and sticky sessions in memory; picks the account for each attempt."""

    def __init__(
        self,
        accounts: Iterable[Account] = (),
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        policy: Policy | None = None,
        record: Callable[[Change], None] | None = None,
    ) -> None:
        self._clock = clock
        self._rng = rng or random.Random()
        self.policy = policy or Policy()
        self._cooldowns: dict[tuple[str, str], Cooldown] = {}
        self.record: Callable[[Change], None] = record or _ignore  # shares each change
        self._sessions: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._shared_at: dict[str, float] = {}  # when each binding was last recorded
        self._turn = 0
        self._current: dict[str, str] = {}  # cache_first: model -> the account every request uses
        self.version = 0  # bumped whenever the cooldown table changes (for persistence)
        self.replace(accounts)

    # ---- accounts --------------------------------------------------------------------------

    def replace(self, accounts: Iterable[Account]) -> None:
        """Swap in a new set of accounts (after a reload); cooldowns and sessions are kept."""
        self._accounts = tuple(sorted(accounts, key=lambda a: a.email))

    def update(self, account: Account) -> None:
        """Put back an account whose state changed (new token, disabled...)."""
        self._accounts = tuple(account if a.email == account.email else a for a in self._accounts)
        self.record(AccountPut(email=account.email, data=msgspec.Raw(_encode(account))))

    def put(self, account: Account) -> None:
        """Add an account, or replace the one with its email (shared)."""
        self._upsert(account)
        self.record(AccountPut(email=account.email, data=msgspec.Raw(_encode(account))))

    def remove(self, email: str) -> None:
        """Take an account out (shared)."""
        self._accounts = tuple(a for a in self._accounts if a.email != email)
        self.record(AccountGone(email=email))

    def _upsert(self, account: Account) -> None:
        others = [a for a in self._accounts if a.email != account.email]
        self.replace([*others, account])

    def get(self, email: str) -> Account | None:
        return next((a for a in self._accounts if a.email == email), None)

    @property
    def accounts(self) -> tuple[Account, ...]:
        return self._accounts

    @property
    def _accounts(self) -> tuple[Account, ...]:
        return self._all

    @_accounts.setter
    def _accounts(self, accounts: tuple[Account, ...]) -> None:
        # every change of the accounts goes through here; a request asks for the usable ones
        # five times (routing, picking), so they are sorted out once per change
        self._all = accounts
        self._usable = [a for a in accounts if a.is_usable]

    def usable(self) -> list[Account]:
        return list(self._usable)

    def offered_models(self) -> set[str]:
        """Every model id some usable account's quota snapshot lists."""
        return {name for a in self._usable for name in a.quota.models}

    def forwarding(self) -> dict[str, str]:
        """Deprecated model id -> its replacement, as the accounts' snapshots report them."""
        return {old: new for a in self._usable for old, new in a.quota.forwarding.items()}

    # ---- cooldowns -------------------------------------------------------------------------

    def cool(self, email: str, model: str, seconds: float, reason: str = "") -> None:
        """Keep `email` away from `model` (ANY_MODEL: from everything) for `seconds`."""
        until = self._clock() + seconds
        current = self._cooldowns.get((email, model))
        if current is None or current.until < until:
            cooldown = Cooldown(email=email, model=model, until=until, reason=reason)
            self._cooldowns[(email, model)] = cooldown
            self.version += 1
            self.record(cooldown)

    def cooldowns(self) -> list[Cooldown]:
        """The active cooldowns (expired ones are dropped)."""
        now = self._clock()
        expired = [key for key, c in self._cooldowns.items() if c.until <= now]
        for key in expired:
            del self._cooldowns[key]
        if expired:
            self.version += 1
        return sorted(self._cooldowns.values(), key=lambda c: (c.email, c.model))

    def forget_all(self) -> None:
        """Drop every cooldown, sticky session binding and current account (the admin API's
        reset; shared)."""
        self._forget()
        self.record(Cleared())

    def restore(self, cooldowns: Iterable[Cooldown]) -> None:
        """Load a persisted cooldown table (after a restart)."""
        now = self._clock()
        self._cooldowns = {(c.email, c.model): c for c in cooldowns if c.until > now}

    def ready_at(self, account: Account, model: str) -> float:
        """When `account` may serve `model` again, from cooldowns and its quota snapshot."""
        times = [0.0]
        for key in ((account.email, model), (account.email, ANY_MODEL)):
            if (cooldown := self._cooldowns.get(key)) is not None:
                times.append(cooldown.until)
        quota = account.quota.models.get(model)
        if quota is not None and self._short_of(quota):
            times.append(reset_epoch(quota) or float("inf"))
        return max(times)

    def _short_of(self, quota: ModelQuota) -> bool:
        if quota.remaining_fraction <= 0:
            return bool(quota.reset_time)  # proto3 omits 0: without a reset time we know nothing
        return quota.percentage < self.policy.protection_threshold

    # ---- selection -------------------------------------------------------------------------

    def candidates(self, model: str, *, exclude: Collection[str] = ()) -> list[Account]:
        """Accounts that may serve `model` now, best tier (ultra > pro > others) first: usable,
        offering it, not cooling, known quota neither exhausted nor under the protection
        threshold (a never-fetched quota counts as available)."""
        now = self._clock()
        found = [a for a in self._servers(model, exclude) if self.ready_at(a, model) <= now]
        return sorted(found, key=lambda a: tier_rank(a.tier))

    def next_ready(self, model: str, *, exclude: Collection[str] = ()) -> float | None:
        """Seconds until the soonest cooling account may serve `model`; None when none will."""
        soonest = min((self.ready_at(a, model) for a in self._servers(model, exclude)),
                      default=float("inf"))
        return None if soonest == float("inf") else max(0.0, soonest - self._clock())

    def _servers(self, model: str, exclude: Collection[str]) -> list[Account]:
        """Usable accounts that offer `model` (when any snapshot lists it) and are not excluded."""
        usable = [a for a in self._usable if a.email not in exclude]
        listed = any(model in a.quota.models for a in self._usable)
        return [a for a in usable if not listed or not a.quota.models or model in a.quota.models]

    def pick(
        self, model: str, *, exclude: Collection[str] = (), session: str = ""
    ) -> Account | None:
        """The account for the next attempt at `model`; None when none may serve it now."""
        found = self.candidates(model, exclude=exclude)
        if not found:
            return None
        chosen = self._sticky(session, found) if self.policy.mode != "round_robin" else None
        if chosen is None:
            chosen = self._choose(found, model)
        if session and self.policy.mode != "round_robin":
            self._bind(session, chosen.email)
        return chosen

    def _bind(self, session: str, email: str) -> None:
        """Bind (or touch) a conversation; shared when new, moved, or a quarter-TTL old."""
        now = self._clock()
        previous = self._sessions.get(session)
        self._sessions[session] = (email, now)
        self._sessions.move_to_end(session)
        self._trim()
        if self.record is _ignore:
            return  # nothing shares it (the memory backend): no bookkeeping on the hot path
        stale = now - self._shared_at.get(session, -1e18) > self.policy.sticky_ttl / 4
        if previous is None or previous[0] != email or stale:
            self._shared_at[session] = now
            self.record(Binding(session=session, email=email, at=now))

    def _trim(self) -> None:
        while len(self._sessions) > MAX_SESSIONS:
            forgotten, _ = self._sessions.popitem(last=False)
            self._shared_at.pop(forgotten, None)

    def _sticky(self, session: str, found: list[Account]) -> Account | None:
        bound = self._sessions.get(session) if session else None
        if bound is None:
            return None
        email, last = bound
        if self.policy.mode == "balance" and self._clock() - last > self.policy.sticky_ttl:
            return None
        return next((a for a in found if a.email == email), None)

    def _choose(self, found: list[Account], model: str) -> Account:
        match self.policy.mode:
            case "round_robin":
                return self._rotate(found)
            case "cache_first":
                return self._stay(found, model)
            case _:
                return self._p2c(found, model)

    def _stay(self, found: list[Account], model: str) -> Account:
        """cache_first: the model's current account while it is a candidate (prompt caches are
        per model), else the best one (which becomes current). Excluded only for this request
        (a failed attempt): no move."""
        email = self._current.get(model)
        chosen = next((a for a in found if a.email == email), None)
        if chosen is not None:
            return chosen
        best = min(found, key=lambda a: (tier_rank(a.tier), -_remaining(a, model), a.email))
        if email is None or all(a.email != email for a in self.candidates(model)):
            self._current[model] = best.email
            self.record(Current(model=model, email=best.email))
        return best

    def current(self, model: str) -> str | None:
        """cache_first: the account `model` is served by (None before the first request)."""
        return self._current.get(model)

    def _rotate(self, found: list[Account]) -> Account:
        chosen = sorted(found, key=lambda a: a.email)[self._turn % len(found)]
        self._turn += 1
        return chosen

    def _p2c(self, found: list[Account], model: str) -> Account:
        """Power of two choices on the model's remaining quota, within the best tier present."""
        best = [a for a in found if tier_rank(a.tier) == tier_rank(found[0].tier)]
        if len(best) == 1:
            return best[0]
        first, second = self._rng.sample(best, 2)
        return second if _remaining(second, model) > _remaining(first, model) else first

    # ---- sharing ---------------------------------------------------------------------------

    def _forget(self) -> None:
        self._cooldowns.clear()
        self._sessions.clear()
        self._current.clear()
        self.version += 1

    def apply(self, change: Change) -> None:
        """A change another instance made (not recorded again)."""
        match change:
            case Cooldown():
                current = self._cooldowns.get((change.email, change.model))
                if current is None or current.until < change.until:
                    self._cooldowns[(change.email, change.model)] = change
                    self.version += 1
            case Binding():
                self._sessions[change.session] = (change.email, change.at)
                self._shared_at[change.session] = change.at
                self._trim()
            case Current():
                self._current[change.model] = change.email
            case AccountPut():
                self._upsert(_decode_account(change.data))
            case AccountGone():
                self._accounts = tuple(a for a in self._accounts if a.email != change.email)
            case Cleared():
                self._forget()
            case Routing():
                pass  # settings: the gateway applies them (upkeep.SharedView)
            case _:
                assert_never(change)

    def load(self, snapshot: Snapshot) -> None:
        """The whole shared state: its accounts replace ours; cooldowns learned here stay."""
        self.replace(_decode_account(put.data) for put in snapshot.accounts)
        changes: list[Change] = [*snapshot.cooldowns, *snapshot.bindings, *snapshot.currents]
        for change in changes:
            self.apply(change)
        self.cooldowns()  # drops the expired ones

    def snapshot(self) -> Snapshot:
        """What this instance knows, to seed a shared store."""
        return Snapshot(
            cooldowns=self.cooldowns(),
            accounts=[AccountPut(email=a.email, data=msgspec.Raw(_encode(a)))
                      for a in self._accounts],
        )

    def bound_to(self, session: str) -> str | None:
        bound = self._sessions.get(session)
        return bound[0] if bound else None


def _ignore(_: Change) -> None:
    return None


def _remaining(account: Account, model: str) -> float:
    """The known remaining fraction of `model`; unknown (never fetched) counts as full."""
    quota = account.quota.models.get(model)
    return quota.remaining_fraction if quota is not None else 1.0
