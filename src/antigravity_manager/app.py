"""`build_app`: wires settings, accounts, the upstream client and the routes into one aiohttp app.

Everything the app needs is created here or injected through the parameters (tests pass fakes
the same way); there is no module-level state. It does not bind sockets: `server/runner.py` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from .account_service import AccountService
from .accounts.pool import Pool
from .accounts.store import AccountStore
from .providers.cloudcode import CloudCode
from .server import auth, middleware
from .server.context import GATEWAY
from .server.pipeline import Gateway
from .server.routes import add_routes
from .settings import Settings

log = logging.getLogger(__name__)

ACCOUNT_RELOAD_SECONDS = 2.0


def new_session(settings: Settings) -> aiohttp.ClientSession:
    # limit=0: no cap on concurrent upstream streams (the default 100 makes the 101st queue).
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, keepalive_timeout=90)
    return aiohttp.ClientSession(connector=connector, trust_env=False)


def build_app(
    settings: Settings,
    data_dir: Path,
    *,
    session: aiohttp.ClientSession | None = None,
    clock: Callable[[], float] = time.time,
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex,
) -> web.Application:
    app = web.Application(
        client_max_size=settings.proxy.max_body_bytes,
        middlewares=[
            middleware.cors,
            middleware.request_ids(new_id),
            middleware.errors,
            auth.middleware(lambda: gateway.settings),
        ],
    )
    store = AccountStore(data_dir)
    owned = session is None
    http = session or new_session(settings)
    accounts = AccountService(http, settings, store, clock=clock)
    cloudcode = CloudCode(
        http,
        settings.upstream.cloudcode_base_urls,
        proxy=settings.upstream.proxy_url or None,
        timeout=settings.proxy.request_timeout,
        user_agent=settings.upstream.user_agent,
    )
    gateway = Gateway(
        settings,
        accounts=accounts,
        pool=Pool(store.load_all()),
        cloudcode=cloudcode,
        new_id=new_id,
        clock=clock,
        http=http,
    )
    app[GATEWAY] = gateway
    add_routes(app)
    app.cleanup_ctx.append(_account_reloader(gateway, store))
    if owned:
        app.on_cleanup.append(lambda _: http.close())
    return app


def _account_reloader(
    gateway: Gateway, store: AccountStore
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    """Picks up accounts added, removed or edited by `agm accounts ...` while the server runs."""

    @contextlib.asynccontextmanager
    async def reloader(_: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_watch(gateway, store))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return reloader


async def _watch(gateway: Gateway, store: AccountStore) -> None:
    seen = await asyncio.to_thread(_fingerprint, store.dir)
    while True:
        await asyncio.sleep(ACCOUNT_RELOAD_SECONDS)
        try:
            now = await asyncio.to_thread(_fingerprint, store.dir)
            if now != seen:
                seen = now
                gateway.pool.replace(await asyncio.to_thread(store.load_all))
                log.info("accounts reloaded: %d usable", len(gateway.pool.usable()))
        except OSError as exc:
            log.warning("could not reload accounts: %s", exc)


def _fingerprint(directory: Path) -> frozenset[tuple[str, int]]:
    if not directory.is_dir():
        return frozenset()
    return frozenset((p.name, p.stat().st_mtime_ns) for p in directory.glob("*.json"))
