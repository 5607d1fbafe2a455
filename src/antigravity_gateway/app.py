"""`build_app`: wires settings, accounts, the upstream client and the routes into one aiohttp app.

Everything the app needs is created here or injected through the parameters (tests pass fakes
the same way); there is no module-level state. The pool starts with the persisted cooldowns and
shares its changes through the `[state]` store (memory: nothing to share); `upkeep` opens the
store and runs the background jobs. It does not bind sockets: `runner.py` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from . import upkeep
from .account_service import AccountService
from .accounts import state
from .accounts.pool import Policy, Pool
from .accounts.store import AccountStore
from .dashboard import routes as dashboard
from .mcp_servers import routes as mcp_routes
from .monitor.service import Monitor
from .providers import wire
from .server import admin, auth, browsers, middleware, monitoring
from .server.admin_config import ADMIN, AdminContext
from .server.context import GATEWAY, STATE
from .server.pipeline import Gateway
from .server.routes import add_routes
from .settings import Settings, watch
from .state import new_store
from .state.base import Store

log = logging.getLogger(__name__)


def new_session(settings: Settings) -> aiohttp.ClientSession:
    # for OAuth, fetches and tools (upstream calls: providers/wire.py); limit=0: no cap on
    # concurrent calls (the default 100 makes the 101st queue).
    connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, keepalive_timeout=90)
    return aiohttp.ClientSession(connector=connector, trust_env=False)


def random_id() -> str:
    """32 hex digits for request, answer and upstream request ids: unique, not secret (random's
    generator, reseeded in forked workers, takes no system call; uuid4 cost 2 us per id, three
    per request). Keys and session tokens come from `secrets`."""
    return f"{random.getrandbits(128):032x}"


def build_app(
    settings: Settings,
    data_dir: Path,
    *,
    session: aiohttp.ClientSession | None = None,
    clock: Callable[[], float] = time.time,
    new_id: Callable[[], str] = random_id,
    rng: random.Random | None = None,
    shared: Store | None = None,
) -> web.Application:
    store = AccountStore(data_dir)
    store.sweep()  # temp files a killed writer left behind
    owned = session is None
    http = session or new_session(settings)
    upstream_client = wire.Client()
    shared = shared or new_store(settings)
    gateway = _gateway(settings, store, data_dir, http, upstream_client, shared,
                       clock=clock, new_id=new_id, rng=rng)
    app = _web_app(settings, new_id, lambda: gateway.settings)
    app[GATEWAY] = gateway
    dashboard.add_routes(app.router)
    app[STATE] = shared
    _add_monitor(app, gateway, data_dir, store)
    add_routes(app)
    mcp_routes.install(app, gateway)
    # entered first, left last (also when the state store cannot be opened)
    app.cleanup_ctx.append(_closing(upstream_client, http if owned else None))
    app.cleanup_ctx.append(upkeep.context(gateway, store, data_dir, shared))
    app.cleanup_ctx.append(_live_settings(gateway, data_dir))
    return app


def _gateway(
    settings: Settings,
    store: AccountStore,
    data_dir: Path,
    http: aiohttp.ClientSession,
    upstream_client: wire.Client,
    shared: Store,
    *,
    clock: Callable[[], float],
    new_id: Callable[[], str],
    rng: random.Random | None,
) -> Gateway:
    """The gateway over the account pool, whose changes `shared` spreads to other workers."""
    accounts = AccountService(http, settings, store, clock=clock, shared=shared,
                              upstream_client=upstream_client)
    pool = _pool(settings, store, data_dir, clock, rng)
    if shared.shared:
        pool.record = shared.record
    return Gateway(
        settings,
        accounts=accounts,
        pool=pool,
        cloudcode=accounts.cloudcode,  # one upstream client, same settings
        new_id=new_id,
        clock=clock,
        http=http,
        upstream_client=upstream_client,
    )


def _web_app(
    settings: Settings, new_id: Callable[[], str], current: Callable[[], Settings]
) -> web.Application:
    """The aiohttp app: the middlewares in their order, CORS headers on every answer."""
    # this machine's names answer only with LAN access (a bind change needs a restart anyway)
    machine = browsers.machine_names() if settings.proxy.allow_lan_access else frozenset()
    policy = browsers.live_policy(current, machine)
    app = web.Application(
        client_max_size=settings.proxy.max_body_bytes,
        middlewares=[
            middleware.request_ids(new_id),
            monitoring.middleware(),
            middleware.errors,
            browsers.guard(policy),
            auth.middleware(current),
        ],
    )
    app.on_response_prepare.append(browsers.cors(policy))
    return app


def _closing(
    upstream_client: wire.Client, http: aiohttp.ClientSession | None,
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def closing(_: web.Application) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await upstream_client.close()
            if http is not None:
                await http.close()

    return closing


def _live_settings(
    gateway: Gateway, data_dir: Path
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    """config.toml changes applied while running; the body limit follows them too."""

    @contextlib.asynccontextmanager
    async def live(app: web.Application) -> AsyncIterator[None]:
        gateway.on_settings.append(lambda new: _set_body_limit(app, new))
        task = asyncio.create_task(
            watch.watch(data_dir, lambda: gateway.settings, gateway.apply_settings))
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return live


def _set_body_limit(app: web.Application, settings: Settings) -> None:
    app._client_max_size = settings.proxy.max_body_bytes  # aiohttp reads it for every request


def _add_monitor(
    app: web.Application, gateway: Gateway, data_dir: Path, store: AccountStore
) -> None:
    monitor = Monitor(data_dir, gateway.settings.monitor,
                      secrets=lambda: secrets_of(gateway.settings),
                      accounts=lambda: admin.account_states(gateway))
    app[monitoring.MONITOR] = monitor
    gateway.on_settings.append(lambda new: setattr(monitor, "settings", new.monitor))
    app[ADMIN] = AdminContext(data_dir=data_dir, store=store)

    async def start(_: web.Application) -> None:
        await monitor.start()

    async def end_feeds(_: web.Application) -> None:
        monitor.feed.close()  # live log readers end before the in-flight wait

    async def stop(_: web.Application) -> None:
        await monitor.stop()  # after in-flight requests: their rows are written

    app.on_startup.append(start)
    app.on_shutdown.append(end_feeds)
    app.on_cleanup.append(stop)


def secrets_of(settings: Settings) -> list[str]:
    """Every credential the settings hold: none of them may reach the monitor database."""
    return [settings.proxy.api_key, settings.proxy.admin_password, settings.zai.api_key,
            settings.upstream.oauth_client_secret,
            *(k for u in settings.upstreams for k in u.api_keys)]


def _pool(
    settings: Settings,
    store: AccountStore,
    data_dir: Path,
    clock: Callable[[], float],
    rng: random.Random | None,
) -> Pool:
    pool = Pool(store.load_all(), clock=clock, rng=rng, policy=Policy.of(settings))
    pool.restore(state.load_cooldowns(data_dir))
    return pool
