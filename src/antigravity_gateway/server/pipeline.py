"""The orchestrator: a hub request in, a stream of hub events out, over a lane of credentials.

`Gateway.serve` maps the model to routes (normally one; `[zai]` dispatch may add z.ai after
Google) and hands each route's lane to the attempt loop (server/attempt.py); a route that finds
no credential passes to the next. A 400 about replayed thinking signatures is retried once
without them. Nothing here knows any client protocol or any upstream's wire format.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import aiohttp
from msgspec.structs import replace

from ..account_service import AccountService
from ..accounts.pool import Policy, Pool
from ..accounts.store import Account
from ..core.messages import ChatRequest, Message, Text, Thinking, ToolCall
from ..errors import GatewayError, NoAccount, UpstreamError
from ..providers import wire
from ..providers.base import EventStream
from ..providers.cloudcode import CloudCode, CloudCodeProvider
from ..routing import models
from ..routing.retry import Decision
from ..routing.sessions import session_id_of
from ..routing.variants import is_image_model, listed_variants
from ..settings import Settings, validate
from ..settings.watch import log_changes
from .attempt import Lane, Limits, attempt, human_duration
from .google import GoogleAccounts
from .signatures import SignatureCache
from .upstreams import Upstreams

log = logging.getLogger(__name__)

__all__ = ["Gateway", "Served", "human_duration", "session_id_of", "without_signatures"]


@dataclass(frozen=True, slots=True)
class Served:
    """A request a credential has started answering; `events` includes the first ones.

    `attempts` (upstream attempts made), `credential` (the account's email or the key's label)
    and `mapped_model` are the per-request facts a monitor records.
    """

    route: models.Route
    account: Account
    events: EventStream
    attempts: int = 1

    @property
    def credential(self) -> str:
        return self.account.email

    @property
    def mapped_model(self) -> str:
        return self.route.mapped

    def headers(self, request_id: str) -> dict[str, str]:
        return {
            "X-Mapped-Model": self.mapped_model,
            "X-Account-Email": self.credential,
            "X-Request-Id": request_id,
        }


class Gateway:
    """Serves hub requests: routes the model, picks a lane, runs the attempt loop on it."""

    def __init__(
        self,
        settings: Settings,
        *,
        accounts: AccountService,
        pool: Pool,
        cloudcode: CloudCode,
        new_id: Callable[[], str],
        clock: Callable[[], float],
        http: aiohttp.ClientSession,
        upstream_client: wire.Client,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http = http  # for handlers that fetch on the client's behalf (image URLs)
        self.signatures = SignatureCache()
        self.settings = settings
        self.accounts = accounts
        self.pool = pool
        self.cloudcode = cloudcode
        self.new_id = new_id
        self.clock = clock
        self._sleep = sleep
        self.google = GoogleAccounts(
            accounts, pool, CloudCodeProvider(cloudcode, pool, new_id), clock
        )
        self.upstreams = Upstreams(upstream_client, clock)
        self._routed = models.RouteCache()
        self.on_settings: list[Callable[[Settings], None]] = []  # more to do on a live change
        self.last_used: dict[str, float] = {}  # email -> when it last served (upkeep saves it)

    async def reload_accounts(self) -> None:
        """The pool as the account files say now (after an admin API change or a sign-in)."""
        self.pool.replace(await asyncio.to_thread(self.accounts.store.load_all))

    def apply_settings(self, new: Settings) -> None:
        """The one way to change settings while running (file watcher, admin API): validated,
        then everything that reads them (auth, mapping, pool policy, upstreams) sees `new`."""
        validate(new)
        old, self.settings = self.settings, new
        self.pool.policy = Policy.of(new)
        self.accounts.use_settings(new)
        for listener in self.on_settings:
            listener(new)
        log_changes(old, new)

    def model_names(self) -> set[str]:
        """What `/v1/models` lists: the accounts' models (image models with their size and ratio
        variants), the custom mapping's plain names and the upstreams' plain model names."""
        self.upstreams.sync(self.settings)
        custom = {name for name in self.settings.models.custom_mapping if "*" not in name}
        offered = self.google.provider.list_models()
        images = {v for name in offered if is_image_model(name) for v in listed_variants(name)}
        return offered | custom | images | self.upstreams.model_names()

    def route(self, model: str, custom: Mapping[str, str] | None = None) -> models.Route:
        """Where `model` goes; `custom` replaces the mapping (the dashboard's preview)."""
        self.upstreams.sync(self.settings)
        if custom is not None:
            return self._resolve(model, custom)
        basis = (self.settings, self.pool.accounts, self.upstreams.lanes)
        if (cached := self._routed.get(model, basis)) is not None:
            return cached
        return self._routed.put(model, self._resolve(model, self.settings.models.custom_mapping))

    def _resolve(self, model: str, custom: Mapping[str, str]) -> models.Route:
        return models.resolve(
            model,
            custom,
            self.pool.offered_models(),
            self.pool.forwarding(),
            upstreams=self.upstreams.globs(),
            strict=bool(self.upstreams.lanes) and not self.pool.usable(),
        )

    def _routes(self, req: ChatRequest) -> list[models.Route]:
        self.upstreams.sync(self.settings)
        return self.upstreams.dispatch(
            self.settings, req, lambda: self.route(req.model), len(self.pool.usable())
        )

    def _limits(self) -> Limits:
        proxy = self.settings.proxy
        return Limits(max_attempts=proxy.max_attempts, max_wait=proxy.max_wait_seconds,
                      sleep=self._sleep)

    def _lane(self, route: models.Route) -> Lane:
        """The Google account pool (through Cloud Code), or the route's API-key upstream."""
        return self.upstreams.lanes[route.provider] if route.provider else self.google

    async def serve(self, req: ChatRequest, *, account: str = "") -> Served:
        """The first route that has a credential serves (fallback: z.ai once Google cannot);
        `account`: only that account may answer (a warmup)."""
        *first, last = self._routes(req)
        for route in first:
            try:
                return await self._serve_route(req, route, account)
            except NoAccount as exc:
                log.info("%s; trying %s", exc.message, last.mapped)
        return await self._serve_route(req, last, account)

    async def _serve_route(self, req: ChatRequest, route: models.Route, account: str) -> Served:
        req = self.signatures.restore(route.applied_to(req))
        try:
            try:
                return await self._serve(req, route, account)
            except UpstreamError as exc:
                if exc.upstream_status != 400 or not _is_signature_error(exc.body):
                    raise
                log.info("upstream refused a replayed signature; retrying once without them")
                return await self._serve(without_signatures(req), route, account)
        except GatewayError as exc:  # the README: every proxied answer names the model
            exc.headers.setdefault("X-Mapped-Model", route.mapped)
            raise

    async def _serve(self, req: ChatRequest, route: models.Route, only: str = "") -> Served:
        lane = self._lane(route)
        see = self.signatures.watcher()

        async def call(credential: Account) -> EventStream:
            # the first events are awaited here: only then does the answer count as served
            events = await lane.provider.open_stream(req, route, credential)
            events.watch(see)
            try:
                await events.prime()
            except BaseException:
                await events.aclose()
                raise
            return events

        outcome = await attempt(
            lane, self._limits(), call, model=route.upstream, session=session_id_of(req), only=only
        )
        if lane is self.google:  # saved in the background (upkeep)
            self.last_used[outcome.credential.email] = self.clock()
        return Served(route, outcome.credential, outcome.value, outcome.attempts)

    async def count_tokens(self, req: ChatRequest) -> int:
        """The upstream's own count of everything the request would send (0: it cannot)."""
        *first, last = self._routes(req)
        for route in first:
            try:
                return await self._count(req, route)
            except NoAccount:
                pass
        return await self._count(req, last)

    async def _count(self, req: ChatRequest, route: models.Route) -> int:
        req = route.applied_to(req)
        lane = self._lane(route)

        async def call(credential: Account) -> int:
            return await lane.provider.count_tokens(req, route, credential)

        outcome = await attempt(lane, self._limits(), call, model=route.upstream)
        return outcome.value

    # ---- the Google lane's upkeep, under the names the rest of the code uses ----------------

    async def fresh_token(self, account: Account, *, force: bool = False) -> Account:
        return await self.google.fresh_token(account, force=force)

    async def refresh_quota(self, account: Account) -> None:
        await self.google.refresh_quota(account)

    def refresh_quota_soon(self, account: Account) -> None:
        self.google.refresh_quota_soon(account)

    def apply(self, account: Account, model: str, decision: Decision) -> None:
        self.google.apply(account, model, decision)

    async def close(self) -> None:
        """Cancel the background jobs (at shutdown)."""
        await self.google.close()


SIGNATURE_ERRORS = ("signature", "thinking.thinking")


def _is_signature_error(body: str) -> bool:
    """The upstream's 400s about replayed thinking (docs/upstream.md §5.2)."""
    lowered = body.lower()
    return any(marker in lowered for marker in SIGNATURE_ERRORS)


def without_signatures(req: ChatRequest) -> ChatRequest:
    """Antigravity Tools' recovery (docs/upstream.md §5.2): drop thinking and signatures."""

    def clean(message: Message) -> Message:
        parts = tuple(
            replace(p, signature=None) if isinstance(p, ToolCall | Text) else p
            for p in message.parts
            if not isinstance(p, Thinking)
        )
        return replace(message, parts=parts)

    raw = {k: v for k, v in req.passthrough.items() if k != "anthropic"}  # re-encoded instead
    return replace(req, messages=tuple(clean(m) for m in req.messages), passthrough=raw)
