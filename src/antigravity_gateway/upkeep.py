"""Background upkeep of the account pool while the server runs.

Six loops: reload accounts changed by `agm accounts ...`, renew access tokens ahead of expiry,
refresh quota snapshots, persist the cooldown table and `last_used`, and warm idle accounts when
`[warmup] enabled`. Each reads its settings every round (live changes apply) and survives its
own failures; none decides anything about requests: the pool and the pipeline do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

from aiohttp import web

from .accounts import state, warmup
from .accounts.oauth import InvalidGrant
from .accounts.store import Account, AccountStore
from .errors import GatewayError
from .file_poll import Poll
from .monitor.record import Record
from .monitor.service import Monitor
from .server import monitoring
from .server.internal_routes import warm
from .server.pipeline import Gateway
from .sharing import SharedView
from .state.base import Store

log = logging.getLogger(__name__)

RELOAD_SECONDS = 0.5  # also how soon admin API changes reach other instances
PERSIST_SECONDS = 1.0
TOKEN_CHECK_SECONDS = 60.0
LAST_USED_SECONDS = 15.0  # `last_used` reaches the account files this often (not per request)


def context(
    gateway: Gateway, store: AccountStore, data_dir: Path, shared: Store
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    """An aiohttp cleanup context running every loop; at exit the cooldowns are saved once more.

    The shared state store opens first (an unreachable Redis stops the start-up), closes last.
    """

    @contextlib.asynccontextmanager
    async def upkeep(app: web.Application) -> AsyncIterator[None]:
        monitor = app.get(monitoring.MONITOR)  # scheduled warmups get request-log rows
        await shared.open(SharedView(gateway))
        saved_use: dict[str, float] = {}
        jobs: list[Coroutine[Any, Any, None]] = [
            watch_accounts(gateway, store),
            persist_cooldowns(gateway, data_dir),
            _every(TOKEN_CHECK_SECONDS, lambda: renew_tokens(gateway)),
            refresh_quotas(gateway),
            _every(LAST_USED_SECONDS, lambda: save_last_used(gateway, saved_use)),
            scheduled_warmup(gateway, monitor),
        ]
        tasks = [asyncio.create_task(job) for job in jobs]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await gateway.close()
        await shared.close()
        await asyncio.to_thread(state.save_cooldowns, data_dir, gateway.pool.cooldowns())
        await save_last_used(gateway, saved_use)

    return upkeep


async def _every(seconds: float, job: Callable[[], Coroutine[Any, Any, None]]) -> None:
    while True:
        try:
            await job()
        except (GatewayError, OSError) as exc:
            log.warning("background job failed: %s", exc)
        await asyncio.sleep(seconds)


async def watch_accounts(gateway: Gateway, store: AccountStore) -> None:
    """Picks up accounts added, removed or edited by `agm accounts ...` while the server runs:
    every account whose file was written is put into the pool as the file says (even when it
    reads as before: the pool's copy may differ, e.g. a flag an `enable` cleared). Only
    changed files count, so accounts known only through the shared store stay."""
    seen = await asyncio.to_thread(_fingerprint, store.dir)
    known = {a.id: a.email for a in await asyncio.to_thread(store.load_all)}
    with Poll(lambda: _fingerprint(store.dir), RELOAD_SECONDS, seen) as poll:
        while True:
            try:
                now = await poll.changed()
                written = {name.removesuffix(".json") for name, _ in now - seen}
                before = _summary(gateway)
                copies = {a.email: a for a in gateway.pool.accounts}  # as the files are read
                loaded = await asyncio.to_thread(store.load_all)
                late = _put_changes(gateway, known, loaded, written, copies)
                seen = frozenset(e for e in now if e[0].removesuffix(".json") not in late)
                if late:
                    poll.again()
                known = {a.id: a.email for a in loaded}
                if _summary(gateway) != before:  # not for our own last_used saves
                    log.info("accounts reloaded: %d usable", len(gateway.pool.usable()))
            except OSError as exc:
                log.warning("could not reload accounts: %s", exc)
                poll.again()  # what could not be read is read again next time


def _put_changes(
    gateway: Gateway, before: dict[str, str], loaded: list[Account], written: set[str],
    copies: dict[str, Account],
) -> set[str]:
    """Accounts whose files were written are put into the pool; files removed take theirs out
    (`before`: account id -> email of the previous load). An account the gateway changed while
    the files were read (a verification flag, not saved yet) keeps the pool's copy: the file
    read may predate the change. Its id is returned, to be read again on the next round."""
    late: set[str] = set()
    for account in loaded:
        if account.id not in written:
            continue
        if gateway.pool.get(account.email) is not copies.get(account.email):
            late.add(account.id)
        else:
            gateway.pool.put(account)
    remaining = {a.email for a in loaded}
    for account_id in before.keys() - {a.id for a in loaded}:
        if before[account_id] not in remaining:
            gateway.pool.remove(before[account_id])
    return late


def _summary(gateway: Gateway) -> frozenset[tuple[str, bool]]:
    return frozenset((a.email, a.is_usable) for a in gateway.pool.accounts)


def _fingerprint(directory: Path) -> frozenset[tuple[str, int]]:
    if not directory.is_dir():
        return frozenset()
    return frozenset((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.json"))


async def persist_cooldowns(gateway: Gateway, data_dir: Path) -> None:
    """Save the cooldown table (atomically, off the event loop) whenever it changed."""
    saved = gateway.pool.version
    while True:
        await asyncio.sleep(PERSIST_SECONDS)
        cooldowns = gateway.pool.cooldowns()  # drops expired ones (which bumps the version)
        if gateway.pool.version != saved:
            saved = gateway.pool.version
            try:
                await asyncio.to_thread(state.save_cooldowns, data_dir, cooldowns)
            except OSError as exc:
                log.warning("could not save the cooldowns: %s", exc)


async def save_last_used(gateway: Gateway, saved: dict[str, float]) -> None:
    """Write the `last_used` of every account that served since the last save."""
    for email, when in list(gateway.last_used.items()):
        account = gateway.pool.get(email)
        if account is None or saved.get(email) == when:
            continue
        await gateway.accounts.amend(account, last_used=when)
        saved[email] = when


async def renew_tokens(gateway: Gateway) -> None:
    """Refresh every access token that expires within AHEAD_MARGIN (so no request waits on a
    refresh)."""
    for account in gateway.pool.usable():
        if not gateway.accounts.expires_soon(account):
            continue
        try:
            await gateway.fresh_token(account, force=True)
        except InvalidGrant as exc:
            log.warning("account %s disabled: %s", account.email, exc)  # saved by the service
        except GatewayError as exc:
            log.warning("token refresh of %s failed: %s", account.email, exc.message)


async def refresh_quotas(gateway: Gateway) -> None:
    """Every snapshot every `quota.refresh_minutes` (never-fetched ones are fetched as soon as
    the pipeline picks them, so an idle server with test accounts calls nobody at start-up).
    A snapshot younger than half the interval is skipped: another instance sharing the pool
    (or a refetch after a 429) just fetched it. The setting is read each round (live changes)."""
    while True:
        minutes = gateway.settings.quota.refresh_minutes
        await asyncio.sleep(minutes * 60 if minutes > 0 else TOKEN_CHECK_SECONDS)
        minutes = gateway.settings.quota.refresh_minutes
        if minutes <= 0:
            continue
        for account in gateway.pool.usable():
            if gateway.clock() - account.quota.fetched_at >= minutes * 30:
                await gateway.refresh_quota(account)


def _row(monitor: Monitor | None, model: str) -> contextlib.AbstractAsyncContextManager[Any]:
    """The request-log row of one scheduled warmup (none without a monitor)."""
    if monitor is None:
        return contextlib.nullcontext(Record(timestamp_ms=0, method="", path="", protocol=""))
    return monitoring.recorded(monitor, protocol="warmup", path="/internal/warmup (scheduled)",
                               model=model)


async def scheduled_warmup(gateway: Gateway, monitor: Monitor | None = None) -> None:
    """Every `warmup.interval_minutes`: fresh quotas, then one warmup per idle (account, model).
    The settings are read each round: turning warmup on or off applies live."""
    last: dict[tuple[str, str], float] = {}
    while True:
        settings = gateway.settings.warmup
        if not settings.enabled or not settings.models:
            await asyncio.sleep(TOKEN_CHECK_SECONDS)
            continue
        interval = settings.interval_minutes * 60
        for account in gateway.pool.usable():
            await gateway.refresh_quota(account)
        now = gateway.clock()
        for email, model in warmup.due(
            gateway.pool.usable(), settings.models, now=now, interval=interval, last=last
        ):
            last[(email, model)] = now
            try:
                async with _row(monitor, model) as row:
                    status, answer, _ = await warm(gateway, email, model)
                    row.status = status
            except GatewayError as exc:
                status, answer = exc.http_status, {"message": exc.message}
            log.info("scheduled warmup of %s for %s: %s %s", email, model, status,
                     answer.get("message", ""))  # fmt: skip
        await asyncio.sleep(interval)
