"""The Google lane: the account pool behind Cloud Code, with what keeps its accounts fit.

Fresh access tokens (one refresh path, the service saves them), `invalid_grant` disabling an
account, quota snapshots refetched in the background (debounced per account), verification
flags saved off the request path. The pool learns every change at once, field by field.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from msgspec.structs import replace as replace_struct

from ..account_service import AccountService
from ..accounts.oauth import InvalidGrant
from ..accounts.pool import ANY_MODEL, Pool
from ..accounts.store import Account
from ..errors import GatewayError, UpstreamError
from ..providers.cloudcode import CloudCodeProvider
from ..routing.retry import Decision, classify

log = logging.getLogger(__name__)

QUOTA_REFETCH_SECONDS = 30.0  # a 429 refetches an account's quota at most this often
NO_ACCOUNT = "no usable account: add one with `agm accounts add --refresh-token ...`"


class GoogleAccounts:
    """The Cloud Code provider with the Google account pool (a `Lane` of server/attempt.py)."""

    name = ""
    renews = True
    who = "Google"
    no_credential = NO_ACCOUNT

    def __init__(
        self,
        accounts: AccountService,
        pool: Pool,
        provider: CloudCodeProvider,
        clock: Callable[[], float],
    ) -> None:
        self.accounts = accounts
        self.pool = pool
        self.provider = provider
        self.clock = clock
        self._tasks: dict[str, asyncio.Task[None]] = {}  # background jobs by name
        self._quota_asked: dict[str, float] = {}

    async def ready(self, credential: Account, *, force: bool = False) -> Account:
        if not force and not credential.quota.fetched_at:
            self.refresh_quota_soon(credential)  # never fetched: usable, fetched meanwhile
        return await self.fresh_token(credential, force=force)

    def decide(self, error: UpstreamError) -> Decision:
        return classify(error, now=self.clock())

    def apply(self, credential: Account, model: str, decision: Decision) -> None:
        if decision.cooldown:
            scope = ANY_MODEL if decision.whole_account else model
            self.pool.cool(credential.email, scope, decision.cooldown, decision.kind)
        if decision.kind == "verification":
            self._flag_verification(credential, decision.verification_url)
        if decision.refresh_quota:
            self.refresh_quota_soon(credential)

    async def fresh_token(self, account: Account, *, force: bool = False) -> Account:
        """The account with a fresh access token (the service refreshes and saves it); the pool
        learns the new token, or that an `invalid_grant` disabled the account."""
        try:
            fresh = await self.accounts.fresh_token(account, force=force)
        except InvalidGrant as exc:
            self._amend_pool(account.email, disabled=True, disabled_reason=str(exc))
            raise
        if fresh is not account:
            self._amend_pool(account.email, access_token=fresh.access_token,
                             expires_at=fresh.expires_at, refresh_token=fresh.refresh_token)
        return fresh

    def _amend_pool(self, email: str, **changes: Any) -> None:
        """Change only these fields of the pool's copy: it may hold newer state than the caller
        (a verification flag not saved yet), which a whole stored copy would overwrite."""
        if (current := self.pool.get(email)) is not None:
            self.pool.update(replace_struct(current, **changes))

    def refresh_quota_soon(self, account: Account) -> None:
        """Fetch the account's quota in the background (at most every QUOTA_REFETCH_SECONDS)."""
        now = self.clock()
        if now - self._quota_asked.get(account.email, -1e9) < QUOTA_REFETCH_SECONDS:
            return
        self._quota_asked[account.email] = now
        self._spawn(f"quota:{account.email}", self.refresh_quota(account))

    async def refresh_quota(self, account: Account) -> None:
        try:
            fresh = await self.accounts.refresh_quota(account)
        except InvalidGrant as exc:
            self._amend_pool(account.email, disabled=True, disabled_reason=str(exc))
        except GatewayError as exc:
            log.warning("quota refresh of %s failed: %s", account.email, exc.message)
        else:
            self._amend_pool(account.email, quota=fresh.quota)

    def _flag_verification(self, account: Account, url: str) -> None:
        log.warning("account %s needs verification%s", account.email, f": {url}" if url else "")
        changes = {"needs_verification": True, "verification_url": url}
        self.pool.update(replace_struct(account, **changes))
        self._spawn(f"flag:{account.email}", self._save(account, changes))

    async def _save(self, account: Account, changes: dict[str, Any]) -> None:
        try:
            await self.accounts.amend(account, **changes)
        except OSError as exc:
            log.warning("could not save account %s: %s", account.email, exc)

    def _spawn(self, name: str, job: Awaitable[None]) -> None:
        if name in self._tasks:
            job.close()  # type: ignore[attr-defined]
            return
        task = asyncio.ensure_future(job)
        self._tasks[name] = task
        task.add_done_callback(lambda _: self._tasks.pop(name, None))

    async def close(self) -> None:
        """Cancel the background jobs (at shutdown)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
