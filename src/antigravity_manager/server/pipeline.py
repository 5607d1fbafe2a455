"""The orchestrator: a hub request in, a stream of hub events out, over the account pool.

`Gateway.serve` maps the model, encodes the upstream request once, then tries accounts in
rotation until one has produced its first events: retries happen only before the client got a
byte. An upstream 401 refreshes the token once. Protocol handlers turn the events into their
wire format; nothing here knows any client protocol.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import msgspec
from msgspec.structs import replace as replace_struct

from ..account_service import AccountService
from ..accounts.oauth import InvalidGrant
from ..accounts.pool import Pool
from ..accounts.store import Account
from ..core.events import Event
from ..core.messages import ChatRequest, Message, Text, Thinking, ToolCall
from ..errors import GatewayError, NoAccount, UpstreamError
from ..protocols.gemini import outbound as gemini
from ..providers.cloudcode import CloudCode, Envelope, wrap
from ..routing import models
from ..settings import Settings
from .signatures import SignatureCache

log = logging.getLogger(__name__)

RETRY_ON_NEXT_ACCOUNT = frozenset({401, 403, 404, 408, 429})
MAX_ATTEMPTS = 3


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
    ) -> None:
        self.http = http  # for handlers that fetch on the client's behalf (image URLs)
        self.signatures = SignatureCache()
        self.settings = settings
        self.accounts = accounts
        self.pool = pool
        self.cloudcode = cloudcode
        self.new_id = new_id
        self.clock = clock

    def model_names(self) -> set[str]:
        """What `/v1/models` lists: the accounts' models and the custom mapping's plain names."""
        custom = {name for name in self.settings.models.custom_mapping if "*" not in name}
        return self.pool.offered_models() | custom

    def route(self, model: str) -> models.Route:
        return models.resolve(
            model, self.settings.models.custom_mapping, self.pool.offered_models()
        )

    async def serve(self, req: ChatRequest) -> Served:
        route = self.route(req.model)
        req = self.signatures.restore(req)
        try:
            return await self._serve(req, route)
        except UpstreamError as exc:
            if exc.upstream_status != 400 or not _is_signature_error(exc.body):
                raise
            log.info("upstream refused a replayed signature; retrying once without them")
            return await self._serve(without_signatures(req), route)

    async def count_tokens(self, req: ChatRequest) -> int:
        """The upstream's own count (countTokens) of everything the request would send."""
        route = self.route(req.model)
        body: dict[str, Any] = dict(gemini.encode_request(req, model=route.upstream))
        contents = [*body.get("contents", [])]
        extra = [*(body.get("systemInstruction") or {}).get("parts", [])]
        if body.get("tools"):
            extra.append({"text": msgspec.json.encode(body["tools"]).decode()})
        if extra:  # countTokens takes only contents: count the rest as a leading user turn
            contents.insert(0, {"role": "user", "parts": extra})
        request = {"request": {"model": f"models/{route.upstream}", "contents": contents}}
        for account in self.pool.usable()[:MAX_ATTEMPTS]:
            account = await self._fresh(account, force=False)
            try:
                answer = await self.cloudcode.call("countTokens", account.access_token, request)
            except UpstreamError as exc:
                if not _worth_another_account(exc):
                    raise
                continue
            return int(answer.get("totalTokens", 0))
        raise NoAccount("no usable account can count tokens right now")

    async def _serve(self, req: ChatRequest, route: models.Route) -> Served:
        body = dict(gemini.encode_request(req, model=route.upstream))
        session_id = session_id_of(req)
        tried: set[str] = set()
        last: GatewayError | None = None
        for _ in range(MAX_ATTEMPTS):
            account = self.pool.pick(tried=tried)
            if account is None:
                break
            tried.add(account.email)
            try:
                return await self._attempt(account, route, body, session_id)
            except InvalidGrant as exc:
                log.warning("account %s disabled: %s", account.email, exc)
                last = NoAccount(f"account {account.email} was disabled: {exc}")
            except UpstreamError as exc:
                if not _worth_another_account(exc):
                    raise
                log.info(
                    "account %s failed with %d; trying another", account.email, exc.upstream_status
                )
                last = exc
        if last is not None:
            raise last
        raise NoAccount("no usable account: add one with `agm accounts add --refresh-token ...`")

    async def _attempt(
        self, account: Account, route: models.Route, body: dict[str, Any], session_id: str
    ) -> Served:
        account = await self._fresh(account, force=False)
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
            account = await self._fresh(account, force=True)
            chunks = await self.cloudcode.stream(account.access_token, envelope)
        events = self.signatures.watch(_decode(chunks, gemini.StreamDecoder(model=route.upstream)))
        first = await _first_events(events)
        return Served(route=route, account=account, events=_chain(first, events))

    async def _fresh(self, account: Account, *, force: bool) -> Account:
        try:
            fresh = await self.accounts.fresh_token(account, force=force)
        except InvalidGrant as exc:
            self.pool.update(replace_struct(account, disabled=True, disabled_reason=str(exc)))
            raise
        if fresh is not account:
            self.pool.update(fresh)
        return fresh


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


def _worth_another_account(exc: UpstreamError) -> bool:
    return exc.upstream_status in RETRY_ON_NEXT_ACCOUNT or exc.upstream_status >= 500


def session_id_of(req: ChatRequest) -> str:
    """A stable upstream session id: the client's session key, else its first user text."""
    seed = req.session_key or _first_user_text(req.messages)
    if not seed:
        return ""
    digest = hashlib.sha256(seed.encode()).digest()
    return "-" + str(int.from_bytes(digest[:8], "big") >> 1)


def _first_user_text(messages: tuple[Message, ...]) -> str:
    for message in messages:
        if message.role == "user":
            for part in message.parts:
                if isinstance(part, Text) and part.text:
                    return part.text
    return ""


async def _decode(
    chunks: AsyncIterator[dict[str, Any]], decoder: gemini.StreamDecoder
) -> AsyncIterator[Event]:
    try:
        async for chunk in chunks:
            for event in decoder.feed(chunk):
                yield event
        for event in decoder.close():
            yield event
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


async def _first_events(events: AsyncIterator[Event]) -> list[Event]:
    """Pull until something beyond the opening Start arrived (or the stream ended)."""
    first: list[Event] = []
    async for event in events:
        first.append(event)
        if len(first) > 1:
            break
    return first


async def _chain(first: list[Event], rest: AsyncIterator[Event]) -> AsyncIterator[Event]:
    try:
        for event in first:
            yield event
        async for event in rest:
            yield event
    finally:
        await rest.aclose()  # type: ignore[attr-defined]
