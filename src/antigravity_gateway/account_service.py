"""Account lifecycle: enroll a refresh token, keep access tokens fresh, refresh quota snapshots.

Joins `accounts.oauth`, `accounts.store` and `providers.cloudcode_setup`, so it sits above
`providers` in the import graph (beside `server`). Token refresh is single-flight per account,
and across instances when the state store is shared. It does not choose accounts or retry
requests; the pool and the pipeline do.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

import aiohttp
from msgspec.structs import replace

from .accounts import importers, oauth
from .accounts.store import Account, AccountStore, Quota
from .errors import GatewayError, UpstreamError, UpstreamLoginFailed
from .providers import cloudcode_setup, wire
from .providers.cloudcode import CloudCode
from .settings import Settings, UpstreamSettings
from .state.base import Store, Token
from .state.memory import MemoryStore

log = logging.getLogger(__name__)

REFRESH_MARGIN = 300.0  # seconds: refresh when the access token expires within 5 minutes
AHEAD_MARGIN = 900.0  # seconds: the background refresh renews tokens this long before expiry


class Enrolled(NamedTuple):
    """An enrolled account, and whether its email was new."""

    account: Account
    created: bool  # False: an account with this email existed and was updated


class ImportOutcome(NamedTuple):
    """One import entry's result, as the README shows it."""

    label: str
    status: str  # added | updated | failed
    email: str = ""
    reason: str = ""

    def line(self) -> str:
        if self.status == "failed":
            return f"failed {self.label}: {self.reason}"
        return f"{self.status} {self.email}"


def failure_reason(exc: GatewayError) -> str:
    """One line for a failed enrolment or refresh."""
    if isinstance(exc, oauth.InvalidGrant):
        return f"Google rejected the refresh token ({exc.message})"
    return " ".join(exc.message.split()) or type(exc).__name__


class AccountService:
    """Enrols accounts and keeps their access tokens and quota snapshots fresh."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: Settings,
        store: AccountStore,
        clock: Callable[[], float] = time.time,
        polling: cloudcode_setup.Polling | None = None,
        shared: Store | None = None,
        *,
        upstream_client: wire.Client,
    ) -> None:
        self._session = session
        self._store = store
        self._clock = clock
        self._polling = polling or cloudcode_setup.Polling()
        self._locks: dict[str, asyncio.Lock] = {}
        self._shared = shared or MemoryStore()
        up = self._upstream = settings.upstream
        self.cloudcode = CloudCode(
            upstream_client, up.cloudcode_base_urls, proxy=up.proxy_url or None,
            timeout=settings.proxy.request_timeout, user_agent=up.user_agent)

    def use_settings(self, settings: Settings) -> None:
        """Take new settings while serving: OAuth endpoints, and the Cloud Code URLs, proxy and
        timeout (the one client everything shares is reconfigured in place)."""
        up = self._upstream = settings.upstream
        self.cloudcode.configure(up.cloudcode_base_urls, proxy=up.proxy_url or None,
                                 timeout=settings.proxy.request_timeout, user_agent=up.user_agent)

    @property
    def session(self) -> aiohttp.ClientSession:
        return self._session

    @property
    def upstream(self) -> UpstreamSettings:
        return self._upstream

    @property
    def store(self) -> AccountStore:
        return self._store

    async def enroll(self, refresh_token: str) -> Account:
        """Refresh -> userinfo email -> project (onboarding if needed) -> quota; saved.

        Re-adding a known email updates its tokens and project and re-enables it.
        """
        return (await self.enroll_token(refresh_token)).account

    async def enroll_token(self, refresh_token: str) -> Enrolled:
        """`enroll`, also saying whether the email was new."""
        grant = await oauth.refresh_access_token(self._session, self._upstream, refresh_token)
        return await self.enroll_grant(grant, refresh_token)

    async def enroll_grant(self, grant: oauth.TokenGrant, refresh_token: str = "") -> Enrolled:
        """Enrol the account behind a fresh token grant (a refresh or a sign-in's code exchange).

        Nothing is written unless email and project were found; the save is an upsert by email
        under the store's lock, so one Google account never gets two files.
        """
        email = await oauth.fetch_email(self._session, self._upstream, grant.access_token)
        project = await cloudcode_setup.discover_project(
            self.cloudcode, grant.access_token, self._polling)
        now = self._clock()
        quota: Quota | None = None
        try:
            quota = await cloudcode_setup.fetch_quota(
                self.cloudcode, grant.access_token, project.project_id, now=now)
        except UpstreamError as exc:  # the account works; the quota is fetched again later
            log.warning("quota fetch for a new account failed: %s", exc.message)

        def build(existing: Account | None) -> Account:
            fresh = Account(id=str(uuid.uuid4()), email=email, refresh_token="", created_at=now)
            account = replace(
                existing or fresh,
                refresh_token=grant.refresh_token or refresh_token,
                access_token=grant.access_token,
                expires_at=now + grant.expires_in,
                project_id=project.project_id,
                tier=project.tier,
                disabled=False,
                disabled_reason="",
                disabled_at=0.0,
            )
            return account if quota is None else replace(account, quota=quota)

        account, created = await asyncio.to_thread(self._store.upsert, email, build)
        return Enrolled(account, created)

    async def import_entries(self, entries: list[importers.Entry]) -> list[ImportOutcome]:
        """Enrol each entry in turn (upsert by email); a failed one leaves nothing behind."""
        outcomes = []
        for entry in entries:
            if entry.problem:
                outcomes.append(ImportOutcome(entry.label, "failed", reason=entry.problem))
                continue
            try:
                account, created = await self.enroll_token(entry.refresh_token)
            except GatewayError as exc:
                outcomes.append(ImportOutcome(entry.label, "failed", reason=failure_reason(exc)))
                continue
            outcomes.append(ImportOutcome(entry.label, "added" if created else "updated",
                                          account.email))
        return outcomes

    async def refresh_now(self, account: Account) -> Account:
        """A new access token and a new quota snapshot, both saved."""
        return await self.refresh_quota(await self.fresh_token(account, force=True))

    def needs_refresh(self, account: Account) -> bool:
        return not account.access_token or self.expires_soon(account, REFRESH_MARGIN)

    async def fresh_token(self, account: Account, *, force: bool = False) -> Account:
        """The account with a usable access token, refreshed and persisted when needed.

        Concurrent callers share one refresh (the shared store's lock extends that to every
        instance). `force` (after an upstream 401) refreshes unless another caller already
        replaced the token this caller saw. `invalid_grant` saves the account disabled and
        re-raises.
        """
        if not force and not self.needs_refresh(account):
            return account
        lock = self._locks.setdefault(account.id, asyncio.Lock())
        async with lock, self._shared.refresh_lock(account.email):
            stored = await asyncio.to_thread(self._store.get, account.id)
            current = await self._adopt_shared(stored or account)
            if current.disabled_reason.startswith("invalid_grant: "):
                raise oauth.InvalidGrant(current.disabled_reason.removeprefix("invalid_grant: "))
            if current.access_token != account.access_token and not self.needs_refresh(current):
                return current  # another caller (or instance) refreshed while we waited
            if not force and not self.needs_refresh(current):
                return current
            fresh = await self._refresh(current, persist=stored is not None)
            await self._shared.put_token(fresh.email, Token(
                access_token=fresh.access_token, expires_at=fresh.expires_at,
                refresh_token=fresh.refresh_token))
            return fresh

    async def _adopt_shared(self, account: Account) -> Account:
        """The account with the token another instance refreshed, when that one is newer."""
        token = await self._shared.token(account.email)
        if token is None or token.expires_at <= account.expires_at:
            return account
        return replace(account, access_token=token.access_token, expires_at=token.expires_at,
                       refresh_token=token.refresh_token or account.refresh_token)

    async def _refresh(self, account: Account, *, persist: bool) -> Account:
        """Both writes apply only while the stored refresh token is still the one used: a
        sign-in that replaced it meanwhile must not be disabled or overwritten."""
        try:
            grant = await oauth.refresh_access_token(
                self._session, self._upstream, account.refresh_token)
        except oauth.InvalidGrant as exc:
            log.warning("account %s disabled: invalid_grant", account.id)
            if persist:
                await self._write(account, same_token=True, disabled=True,
                                  disabled_at=self._clock(),
                                  disabled_reason=f"invalid_grant: {exc.description}")
            raise
        except UpstreamError as exc:  # invalid_client, unreachable: our login, not their key
            log.warning("token refresh of account %s failed: %s", account.id, exc.message)
            raise UpstreamLoginFailed(exc, account.email) from exc
        changes = {"access_token": grant.access_token,
                   "expires_at": self._clock() + grant.expires_in,
                   "refresh_token": grant.refresh_token or account.refresh_token}
        if persist:  # an account removed meanwhile must not come back
            return await self._write(account, same_token=True, **changes)
        return replace(account, **changes)

    async def _write(self, account: Account, *, same_token: bool = False,
                     **changes: Any) -> Account:
        """Save `changes` onto the stored copy (under the store's lock) unless it was removed
        (or, with `same_token`, holds another refresh token by now); the changed account."""
        def change(stored: Account) -> Account:
            if same_token and stored.refresh_token != account.refresh_token:
                return stored
            return replace(stored, **changes)

        saved = await asyncio.to_thread(self._store.update, account.id, change)
        return saved or replace(account, **changes)

    async def refresh_quota(self, account: Account) -> Account:
        """A new quota snapshot, persisted; one forced token refresh on a 401."""
        account = await self.fresh_token(account)
        try:
            quota = await cloudcode_setup.fetch_quota(
                self.cloudcode, account.access_token, account.project_id, now=self._clock())
        except UpstreamError as exc:
            if exc.upstream_status != 401:
                raise
            account = await self.fresh_token(account, force=True)
            quota = await cloudcode_setup.fetch_quota(
                self.cloudcode, account.access_token, account.project_id, now=self._clock())
        return await self._write(account, quota=quota)

    def expires_soon(self, account: Account, margin: float = AHEAD_MARGIN) -> bool:
        return account.expires_at - self._clock() < margin

    async def amend(self, account: Account, **changes: Any) -> Account:
        """Apply `changes` to the stored account and save it, off the event loop.

        Serialised with token refreshes of the same account, so neither overwrites the other.
        An account removed meanwhile stays removed (the changed copy is only returned).
        """
        async with self._locks.setdefault(account.id, asyncio.Lock()):
            return await self._write(account, **changes)
