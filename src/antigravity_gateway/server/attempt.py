"""The one attempt loop: every upstream call (serving, counting) goes through it, for every lane.

A lane is a provider with the credentials it rotates: the Google account pool, or one
upstream's API keys. An attempt counts as served once it returned (a stream after its first
events), so retries happen only before the client got a byte. Nothing here knows a protocol.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ..accounts.oauth import InvalidGrant
from ..accounts.pool import ANY_MODEL, Pool
from ..accounts.store import Account
from ..errors import GatewayError, NoAccount, UpstreamError
from ..providers.base import Provider
from ..routing.retry import Decision
from . import monitoring

log = logging.getLogger(__name__)

T = TypeVar("T")


class Lane(Protocol):
    """A provider and the credentials it rotates."""

    @property
    def name(self) -> str:
        """"" for the Google pool, else the upstream's name."""
        ...

    @property
    def provider(self) -> Provider: ...

    @property
    def pool(self) -> Pool: ...

    @property
    def renews(self) -> bool:
        """A 401 renews the credential once (an OAuth token) instead of failing."""
        ...

    @property
    def who(self) -> str:
        """Who refused, in messages: "Google", "upstream zai"."""
        ...

    @property
    def no_credential(self) -> str:
        """The message when the lane has nothing to try."""
        ...

    async def ready(self, credential: Account, *, force: bool = False) -> Account:
        """The credential, fit to use (a fresh token); raises InvalidGrant when it is dead."""
        ...

    def decide(self, error: UpstreamError) -> Decision: ...

    def apply(self, credential: Account, model: str, decision: Decision) -> None:
        """Turn a decision into pool state: a cooldown, a flag, a quota refetch."""
        ...


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """A successful attempt: its value, the credential that gave it, attempts made."""

    value: T
    credential: Account
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Attempts per request (`proxy.max_attempts`) and the wait (`proxy.max_wait_seconds`)."""

    max_attempts: int
    max_wait: float
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@dataclass(slots=True)
class _State:
    """One request's retry bookkeeping."""

    model: str
    session: str
    waited: float = 0.0
    made: int = 0
    failed: set[str] = dataclasses.field(default_factory=set)  # failed without a cooldown
    last: GatewayError | None = None


async def attempt(
    lane: Lane,
    limits: Limits,
    call: Callable[[Account], Awaitable[T]],
    *,
    model: str,
    session: str = "",
    only: str = "",
) -> Outcome[T]:
    """`call` with the lane's best credential, retried on another one while that may help
    (each failure becomes a cooldown, a flag or "next credential"); `only`: no credential but
    that one (a warmup)."""
    state = _State(model=model, session=session)
    if only:
        state.failed = {c.email for c in lane.pool.accounts if c.email != only}
    while state.made < limits.max_attempts:
        credential = await _choose(lane, limits, state)
        if state.made:  # said only now that another attempt really starts
            log.info("retrying on account %s (attempt %d of %d)", credential.email,
                     state.made + 1, limits.max_attempts)
        try:
            credential = await lane.ready(credential)
            state.made += 1
            monitoring.attempted(credential.email)  # the request log's attempts + account
            value, credential = await _once(lane, credential, call)
            return Outcome(value, credential, state.made)
        except InvalidGrant as exc:  # disabled by `ready`: the pool no longer offers it
            log.warning("account %s disabled: %s", credential.email, exc)
            state.last = NoAccount(f"account {credential.email} was disabled: {exc}")
        except UpstreamError as exc:
            exc.headers["X-Account-Email"] = credential.email
            if not _after_failure(lane, credential, state, exc):
                raise
    raise _all_cooling(lane, state) or state.last or NoAccount(lane.no_credential)


async def _once(
    lane: Lane, credential: Account, call: Callable[[Account], Awaitable[T]]
) -> tuple[T, Account]:
    """One attempt; an upstream 401 renews the credential (a Google token) and tries once more."""
    try:
        return await call(credential), credential
    except UpstreamError as exc:
        if exc.upstream_status != 401 or not lane.renews:
            raise
    credential = await lane.ready(credential, force=True)
    return await call(credential), credential


async def _choose(lane: Lane, limits: Limits, state: _State) -> Account:
    """The best credential for the next attempt, waiting for a cooling one when allowed
    (`limits.max_wait` in all), else the 429 with Retry-After."""
    while True:
        found = lane.pool.pick(state.model, exclude=state.failed, session=state.session)
        if found is not None:
            return found
        wait = lane.pool.next_ready(state.model, exclude=state.failed)
        if wait is None:
            raise state.last or NoAccount(lane.no_credential)
        if wait > limits.max_wait - state.waited:
            raise _all_cooling(lane, state) or NoAccount(lane.no_credential)
        log.info("every credential is cooling for %s; waiting %.1f s", state.model, wait)
        state.waited += wait
        await limits.sleep(wait + 0.01)


def _all_cooling(lane: Lane, state: _State) -> NoAccount | None:
    """The 429 for "every credential that could serve the model is cooling", if that is so."""
    pool = lane.pool
    wait = pool.next_ready(state.model, exclude=state.failed)
    if wait is None or pool.candidates(state.model, exclude=state.failed):
        return None
    reasons = {c.reason for c in pool.cooldowns() if c.model in (state.model, ANY_MODEL)}
    if reasons and reasons <= {"forbidden", "unauthorized"}:
        # 503, not 403: Claude Code would send its user to the login screen (issue #5).
        detail = f": {state.last.message}" if state.last else ""
        code = 403 if "forbidden" in reasons else 401
        return NoAccount(f"every {'account' if not lane.name else 'key'} was refused by "
                         f"{lane.who} ({code}){detail}; retrying in {human_duration(wait)}",
                         retry_after=wait)
    subject = "all accounts" if not lane.name else f"all keys of upstream {lane.name}"
    message = (f"{subject} are rate limited for {state.model}; "
               f"next reset in {human_duration(wait)}")
    return NoAccount(message, retry_after=wait, rate_limited=True)


def _after_failure(lane: Lane, credential: Account, state: _State, exc: UpstreamError) -> bool:
    """Record what the failure says about `credential`; True when another attempt may help."""
    decision = lane.decide(exc)
    log.info("account %s failed with %d (%s)", credential.email, exc.upstream_status,
             decision.kind)  # what the client gets is the access line's status
    state.last = exc
    lane.apply(credential, state.model, decision)
    if not decision.cooldown:
        state.failed.add(credential.email)
    return decision.retry


def human_duration(seconds: float) -> str:
    """`9h22m20s`, `2m30s`, `4s` (rounded up to whole seconds)."""
    total = max(1, int(-(-seconds // 1)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"
