"""The orchestrator: a hub request in, a stream of hub events out, over the account pool.

`Gateway.serve` maps the model, encodes the upstream request once, then makes at most
`proxy.max_attempts` attempts, each on the best account the pool offers, until one has produced
its first events: retries happen only before the client got a byte. Each failure is classified
(`routing.retry.classify`) into a cooldown, a verification flag or a plain "next account"; when
every account is cooling it waits up to `proxy.max_wait_seconds`, else answers 429 with
Retry-After. An upstream 401 refreshes the token once. Nothing here knows any client protocol.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from msgspec.structs import replace as replace_struct

from ..account_service import AccountService
from ..accounts.oauth import InvalidGrant
from ..accounts.pool import ANY_MODEL, Pool
from ..accounts.store import Account
from ..core.events import Event
from ..core.messages import ChatRequest, Message, Text, Thinking, ToolCall
from ..errors import GatewayError, NoAccount, UpstreamError
from ..protocols.gemini import outbound as gemini
from ..providers.cloudcode import CloudCode, Envelope, wrap
from ..routing import models
from ..routing.retry import Decision, classify
from ..settings import Settings
from .offload import off_loop_if_big
from .signatures import SignatureCache

log = logging.getLogger(__name__)

QUOTA_REFETCH_SECONDS = 30.0  # a 429 refetches an account's quota at most this often
NO_ACCOUNT = "no usable account: add one with `agm accounts add --refresh-token ...`"


@dataclass(frozen=True, slots=True)
class Served:
    """A request an account has started answering; `events` includes the first ones."""

    route: models.Route
    account: Account
    events: AsyncIterator[Event]

    def headers(self, request_id: str) -> dict[str, str]:
        return {
            "X-Mapped-Model": self.route.upstream,
            "X-Account-Email": self.account.email,
            "X-Request-Id": request_id,
        }


@dataclass(slots=True)
class _Attempts:
    """One request's retry bookkeeping."""

    model: str
    session: str
    waited: float = 0.0
    made: int = 0
    failed: set[str] = dataclasses.field(default_factory=set)  # failed without a cooldown
    last: GatewayError | None = None


class Gateway:
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
        self._tasks: dict[str, asyncio.Task[None]] = {}  # background jobs by name
        self._quota_asked: dict[str, float] = {}

    def model_names(self) -> set[str]:
        """What `/v1/models` lists: the accounts' models and the custom mapping's plain names."""
        custom = {name for name in self.settings.models.custom_mapping if "*" not in name}
        return self.pool.offered_models() | custom

    def route(self, model: str) -> models.Route:
        return models.resolve(
            model,
            self.settings.models.custom_mapping,
            self.pool.offered_models(),
            self.pool.forwarding(),
        )

    async def serve(self, req: ChatRequest) -> Served:
        route = self.route(req.model)
        req = dataclasses.replace(req, reasoning=route.reasoning_for(req.reasoning))
        req = self.signatures.restore(req)
        try:
            try:
                return await self._serve(req, route)
            except UpstreamError as exc:
                if exc.upstream_status != 400 or not _is_signature_error(exc.body):
                    raise
                log.info("upstream refused a replayed signature; retrying once without them")
                return await self._serve(without_signatures(req), route)
        except GatewayError as exc:  # INTERFACE.md: every proxied answer names the model
            exc.headers.setdefault("X-Mapped-Model", route.upstream)
            raise

    async def count_tokens(self, req: ChatRequest) -> int:
        """The upstream's own count (countTokens) of everything the request would send."""
        route = self.route(req.model)
        req = dataclasses.replace(req, reasoning=route.reasoning_for(req.reasoning))
        body: dict[str, Any] = dict(gemini.encode_request(req, model=route.upstream))
        contents = [*body.get("contents", [])]
        extra = [*(body.get("systemInstruction") or {}).get("parts", [])]
        if body.get("tools"):
            extra.append({"text": msgspec.json.encode(body["tools"]).decode()})
        if extra:  # countTokens takes only contents: count the rest as a leading user turn
            contents.insert(0, {"role": "user", "parts": extra})
        request = {"request": {"model": f"models/{route.upstream}", "contents": contents}}
        tried: set[str] = set()
        while len(tried) < self.settings.proxy.max_attempts:
            account = self.pool.pick(route.upstream, exclude=tried)
            if account is None:
                break
            tried.add(account.email)
            try:
                account = await self.fresh_token(account, force=False)
                answer = await self.cloudcode.call("countTokens", account.access_token, request)
            except InvalidGrant:
                continue
            except UpstreamError as exc:
                if not classify(exc, now=self.clock()).retry:
                    raise
                continue
            return int(answer.get("totalTokens", 0))
        raise NoAccount("no usable account can count tokens right now")

    async def _serve(self, req: ChatRequest, route: models.Route) -> Served:
        body = await off_loop_if_big(encode_upstream, req, route.upstream, raw_contents=True)
        state = _Attempts(model=route.upstream, session=session_id_of(req))
        while state.made < self.settings.proxy.max_attempts:
            account = await self._choose(state)
            try:
                account = await self.fresh_token(account, force=False)
                state.made += 1
                return await self._attempt(account, route, body, state.session)
            except InvalidGrant as exc:  # disabled by fresh_token: the pool no longer offers it
                log.warning("account %s disabled: %s", account.email, exc)
                state.last = NoAccount(f"account {account.email} was disabled: {exc}")
            except UpstreamError as exc:
                exc.headers["X-Account-Email"] = account.email
                if not self._after_failure(account, state, exc):
                    raise
        raise self._all_cooling(state) or state.last or NoAccount(NO_ACCOUNT)

    async def _choose(self, state: _Attempts) -> Account:
        """The best account for the next attempt, waiting for a cooling one when allowed."""
        while True:
            account = self.pool.pick(state.model, exclude=state.failed, session=state.session)
            if account is not None:
                if not account.quota.fetched_at:
                    self.refresh_quota_soon(account)  # never fetched: usable, fetched meanwhile
                return account
            wait = self.pool.next_ready(state.model, exclude=state.failed)
            if wait is None:
                raise state.last or NoAccount(NO_ACCOUNT)
            if wait > self.settings.proxy.max_wait_seconds - state.waited:
                raise self._all_cooling(state) or NoAccount(NO_ACCOUNT)
            log.info("every account is cooling for %s; waiting %.1f s", state.model, wait)
            state.waited += wait
            await self._sleep(wait + 0.01)

    def _all_cooling(self, state: _Attempts) -> NoAccount | None:
        """The 429 for "every account that could serve the model is cooling", if that is so."""
        wait = self.pool.next_ready(state.model, exclude=state.failed)
        if wait is None or self.pool.candidates(state.model, exclude=state.failed):
            return None
        if self._reasons(state.model) == {"forbidden"}:
            # 503, not 403: Claude Code would send its user to the login screen (issue #5).
            detail = f": {state.last.message}" if state.last else ""
            return NoAccount(f"every account was refused by Google (403){detail}; "
                             f"retrying in {human_duration(wait)}", retry_after=wait)
        message = (f"all accounts are rate limited for {state.model}; "
                   f"next reset in {human_duration(wait)}")
        return NoAccount(message, retry_after=wait, rate_limited=True)

    def _reasons(self, model: str) -> set[str]:
        """Why the accounts are cooling for `model`: the kinds of the active cooldowns."""
        return {c.reason for c in self.pool.cooldowns() if c.model in (model, ANY_MODEL)}

    def _after_failure(self, account: Account, state: _Attempts, exc: UpstreamError) -> bool:
        """Record what the failure says about `account`; True when another attempt may help."""
        decision = classify(exc, now=self.clock())
        log.info(
            "account %s failed with %d (%s); %s",
            account.email, exc.upstream_status, decision.kind,
            "trying again" if decision.retry else "giving up",
        )
        state.last = exc
        self.apply(account, state.model, decision)
        if not decision.cooldown:
            state.failed.add(account.email)
        return decision.retry

    def apply(self, account: Account, model: str, decision: Decision) -> None:
        """Turn a decision into pool state: a cooldown, a verification flag, a quota refetch."""
        if decision.cooldown:
            scope = ANY_MODEL if decision.whole_account else model
            self.pool.cool(account.email, scope, decision.cooldown, decision.kind)
        if decision.kind == "verification":
            self._flag_verification(account, decision.verification_url)
        if decision.refresh_quota:
            self.refresh_quota_soon(account)

    async def _attempt(
        self, account: Account, route: models.Route, body: dict[str, Any], session_id: str
    ) -> Served:
        envelope = wrap(
            body,
            Envelope(
                model=route.upstream,
                project=account.project_id,
                session_id=session_id,
                request_id=f"agent-{self.new_id()}",
            ),
        )
        try:
            chunks = await self.cloudcode.stream(account.access_token, envelope)
        except UpstreamError as exc:
            if exc.upstream_status != 401:
                raise
            account = await self.fresh_token(account, force=True)
            chunks = await self.cloudcode.stream(account.access_token, envelope)
        decoder = gemini.StreamDecoder(model=route.upstream)
        events = UpstreamEvents(chunks, decoder, self.signatures.watcher())
        try:
            await events.prime()
        except BaseException:
            await events.aclose()
            raise
        return Served(route=route, account=account, events=events)

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

    # ---- background work -------------------------------------------------------------------

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


def encode_upstream(req: ChatRequest, model: str, *, raw_contents: bool = False) -> dict[str, Any]:
    """The Gemini request body; `raw_contents` pre-encodes the (big) contents to JSON here,
    in the worker thread, so the envelope's encoding on the event loop stays cheap."""
    body = dict(gemini.encode_request(req, model=model))
    if raw_contents and "contents" in body:
        body["contents"] = msgspec.Raw(msgspec.json.encode(body["contents"]))
    return body


def human_duration(seconds: float) -> str:
    """`9h22m20s`, `2m30s`, `4s` (rounded up to whole seconds)."""
    total = max(1, int(-(-seconds // 1)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


SIGNATURE_ERRORS = ("signature", "thinking.thinking")


def _is_signature_error(body: str) -> bool:
    """The upstream's 400s about replayed thinking (cloudcode-v1internal.md §4.2)."""
    lowered = body.lower()
    return any(marker in lowered for marker in SIGNATURE_ERRORS)


def without_signatures(req: ChatRequest) -> ChatRequest:
    """The reference's recovery: drop thinking and every signature, keep the rest."""

    def clean(message: Message) -> Message:
        parts = tuple(
            dataclasses.replace(p, signature=None) if isinstance(p, ToolCall | Text) else p
            for p in message.parts
            if not isinstance(p, Thinking)
        )
        return dataclasses.replace(message, parts=parts)

    return dataclasses.replace(req, messages=tuple(clean(m) for m in req.messages))


def session_id_of(req: ChatRequest) -> str:
    """A stable session id (upstream `sessionId`, sticky key): the client's session key, else
    the text of the conversation's first user message."""
    seed = req.session_key or _first_user_text(req.messages)
    if not seed:
        return ""
    digest = hashlib.sha256(seed.encode()).digest()
    return "-" + str(int.from_bytes(digest[:8], "big") >> 1)


def _first_user_text(messages: tuple[Message, ...]) -> str:
    """All text of the first user message that has any (a leading reminder alone is no key)."""
    for message in messages:
        if message.role == "user":
            text = "\n".join(p.text for p in message.parts if isinstance(p, Text) and p.text)
            if text:
                return text
    return ""


class UpstreamEvents:
    """The upstream's chunks decoded into hub events: one async iterator, one layer per event.

    `prime()` pulls until something beyond the opening Start arrived (or the stream ended), so
    a failure before the first byte surfaces while another account can still be tried. Every
    event passes the signature watcher as the client consumes it; `aclose()` closes the
    upstream response at once (a client that hangs up stops the generation).
    """

    def __init__(
        self,
        chunks: AsyncIterator[dict[str, Any]],
        decoder: gemini.StreamDecoder,
        see: Callable[[Event], None],
    ) -> None:
        self._chunks = chunks
        self._decoder = decoder
        self._see = see
        self._ready: deque[Event] = deque()
        self._ended = False

    async def prime(self) -> None:
        while len(self._ready) < 2 and await self._pull():
            pass

    async def _pull(self) -> bool:
        """Decode the next chunk into the buffer; False once the stream has ended."""
        if self._ended:
            return False
        try:
            chunk = await anext(self._chunks)
        except StopAsyncIteration:
            self._ended = True
            self._ready.extend(self._decoder.close())
            return bool(self._ready)
        self._ready.extend(self._decoder.feed(chunk))
        return True

    def __aiter__(self) -> UpstreamEvents:
        return self

    async def __anext__(self) -> Event:
        while not self._ready:
            if not await self._pull():
                raise StopAsyncIteration
        event = self._ready.popleft()
        self._see(event)
        return event

    async def aclose(self) -> None:
        await self._chunks.aclose()  # type: ignore[attr-defined]
