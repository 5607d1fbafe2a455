"""The Redis state store: several gateway processes or machines share one account pool.

Hashes under the prefix `agm:` hold the snapshot; channel `agm:changes` carries every batch of
changes, in one pipeline (writes + PUBLISH) per flush, never awaited by a request. With the
connection lost, changes queue up (bounded) and the instance serves on its local view; on
reconnect it sends the queue, then reloads the whole snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, assert_never

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import LockError, RedisError

from . import base

log = logging.getLogger(__name__)

PREFIX = "agm:"
CHANNEL = PREFIX + "changes"
# Hashes: cooldowns (email+model -> Cooldown), sessions (session -> Binding), current
# (model -> email), accounts (email -> account JSON), tokens (email -> Token); round_trips
# counts the flushes.
COOLDOWNS, SESSIONS, CURRENT = PREFIX + "cooldowns", PREFIX + "sessions", PREFIX + "current"
ACCOUNTS, TOKENS, ROUND_TRIPS = PREFIX + "accounts", PREFIX + "tokens", PREFIX + "round_trips"
REMOVED = PREFIX + "removed"  # emails removed through some instance: never seeded back
MAX_PENDING = 50_000  # changes kept while Redis is away (the oldest are dropped)
MAX_SESSIONS = 10_000  # bindings kept in Redis (as in each pool)
RETRY_SECONDS = 0.5
LOCK_SECONDS = 15.0  # a refresh lock expires by itself if its holder dies
TIMEOUT = 2.0


class Envelope(msgspec.Struct, kw_only=True):
    """One published batch of changes, tagged with the instance that made them."""

    origin: str
    changes: msgspec.Raw


_decode_envelope = msgspec.json.Decoder(Envelope).decode
_decode_cooldown = msgspec.json.Decoder(base.Cooldown).decode
_decode_binding = msgspec.json.Decoder(base.Binding).decode
_decode_token = msgspec.json.Decoder(base.Token).decode


class RedisStore:
    """`state.backend = "redis"`: the pool shared through one Redis server."""

    shared = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.origin = uuid.uuid4().hex
        self.connected = False  # False while Redis is unreachable (a metric reads it)
        self._client = aioredis.from_url(url, socket_timeout=TIMEOUT,
                                          socket_connect_timeout=TIMEOUT)
        self._subscriber = aioredis.from_url(url, socket_connect_timeout=TIMEOUT)  # waits long
        self._pending: deque[base.Change] = deque(maxlen=MAX_PENDING)
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()
        self._listener: base.Listener | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # ---- lifecycle -------------------------------------------------------------------------

    async def open(self, listener: base.Listener) -> None:
        """Subscribe first, then load: no change published meanwhile can be missed."""
        pubsub = self._subscriber.pubsub()
        try:
            await self._client.ping()
            await pubsub.subscribe(CHANNEL)
            await self._seed(listener.snapshot())
            snapshot = await self._load()
        except (RedisError, OSError) as exc:
            await pubsub.aclose()
            await self._client.aclose()
            await self._subscriber.aclose()
            raise base.StateUnavailable(f"cannot reach Redis at {self.url}: {exc}") from None
        self.connected = True
        self._listener = listener
        listener.load(snapshot)
        self._tasks = [asyncio.create_task(self._flush_forever()),
                       asyncio.create_task(self._subscribe_forever(pubsub))]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(RedisError, OSError):
            await self.flush()
        await self._client.aclose()
        await self._subscriber.aclose()

    async def _seed(self, local: base.Snapshot) -> None:
        """What only this instance knows (accounts added while no instance ran, cooldowns
        persisted on its disk) goes in; what Redis already holds wins, and an account removed
        through another instance (while this one was away) stays removed."""
        removed = {_text(email) for email in await self._client.smembers(REMOVED)}
        pipe = self._client.pipeline(transaction=False)
        for account in local.accounts:
            if account.email not in removed:
                pipe.hsetnx(ACCOUNTS, account.email, bytes(account.data))
        for cooldown in local.cooldowns:
            pipe.hsetnx(COOLDOWNS, _cooldown_field(cooldown), base.encode(cooldown))
        await pipe.execute()

    async def _load(self) -> base.Snapshot:
        pipe = self._client.pipeline(transaction=False)
        for key in (COOLDOWNS, SESSIONS, CURRENT, ACCOUNTS):
            pipe.hgetall(key)
        cooldowns, sessions, current, accounts = await pipe.execute()
        active, bindings = await self._prune(
            [_decode_cooldown(v) for v in cooldowns.values()],
            [_decode_binding(v) for v in sessions.values()])
        return base.Snapshot(
            cooldowns=active,
            bindings=bindings,
            currents=[base.Current(model=k.decode(), email=v.decode()) for k, v in current.items()],
            accounts=[base.AccountPut(email=k.decode(), data=msgspec.Raw(v))
                      for k, v in accounts.items()],
        )

    async def _prune(
        self, cooldowns: list[base.Cooldown], bindings: list[base.Binding]
    ) -> tuple[list[base.Cooldown], list[base.Binding]]:
        """Drop expired cooldowns and the least recently used bindings beyond MAX_SESSIONS,
        so the hashes stay bounded however long the pool runs."""
        now = time.time()
        expired = [_cooldown_field(c) for c in cooldowns if c.until <= now]
        bindings.sort(key=lambda b: b.at, reverse=True)
        forgotten = [b.session for b in bindings[MAX_SESSIONS:]]
        pipe = self._client.pipeline(transaction=False)
        for fields, key in ((expired, COOLDOWNS), (forgotten, SESSIONS)):
            if fields:
                pipe.hdel(key, *fields)
        await pipe.execute()
        return [c for c in cooldowns if c.until > now], bindings[:MAX_SESSIONS]

    # ---- changes out -----------------------------------------------------------------------

    def record(self, change: base.Change) -> None:
        self._pending.append(change)
        self._wake.set()

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except (RedisError, OSError) as exc:
                self._lost(exc)
                await asyncio.sleep(RETRY_SECONDS)
                self._wake.set()

    async def flush(self) -> None:
        """Everything pending in one round trip: the writes, one PUBLISH, the counter."""
        async with self._flushing:
            batch = list(self._pending)
            if not batch:
                return
            self._pending.clear()
            pipe = self._client.pipeline(transaction=False)
            for change in batch:
                _stage(pipe, change)
            pipe.publish(CHANNEL, base.encode(Envelope(origin=self.origin,
                                                  changes=msgspec.Raw(base.encode(batch)))))
            pipe.incr(ROUND_TRIPS)
            try:
                await pipe.execute()
            except BaseException:
                self._pending.extendleft(reversed(batch))  # sent again once Redis is back
                raise

    # ---- changes in ------------------------------------------------------------------------

    async def _subscribe_forever(self, pubsub: Any) -> None:
        while True:
            try:
                async with pubsub:
                    if not pubsub.subscribed:
                        await pubsub.subscribe(CHANNEL)
                        await self._resync()
                    await self._listen(pubsub)
            except (RedisError, OSError) as exc:
                self._lost(exc)
                await asyncio.sleep(RETRY_SECONDS)
            pubsub = self._subscriber.pubsub()

    async def _listen(self, pubsub: Any) -> None:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None:
                continue
            envelope = _decode_envelope(message["data"])
            if envelope.origin != self.origin and self._listener is not None:
                for change in base.decode_change(envelope.changes):
                    self._listener.apply(change)

    async def _resync(self) -> None:
        """Back after a loss: what this instance learned meanwhile goes out, then everything
        the others learned comes in."""
        await self.flush()
        if self._listener is not None:
            await self._seed(self._listener.snapshot())  # Redis may have restarted empty
            self._listener.load(await self._load())
        if not self.connected:
            log.warning("state backend %s is back: resynchronised", self.url)
        self.connected = True

    def _lost(self, exc: BaseException) -> None:
        if self.connected:
            log.warning("state backend %s unreachable (%s): serving on this instance's own "
                        "view until it returns", self.url, exc)
        self.connected = False

    # ---- tokens ----------------------------------------------------------------------------

    async def token(self, email: str) -> base.Token | None:
        try:
            raw = await self._client.hget(TOKENS, email)
        except (RedisError, OSError) as exc:
            self._lost(exc)
            return None
        return _decode_token(raw) if raw else None

    async def put_token(self, email: str, token: base.Token) -> None:
        try:
            await self._client.hset(TOKENS, email, base.encode(token))
        except (RedisError, OSError) as exc:
            self._lost(exc)

    @contextlib.asynccontextmanager
    async def refresh_lock(self, email: str) -> AsyncIterator[None]:
        """A short Redis lock; without Redis (or after waiting LOCK_SECONDS) the caller goes
        ahead alone: a second refresh is better than no token."""
        lock = self._client.lock(PREFIX + "refresh:" + email, timeout=LOCK_SECONDS,
                                 sleep=0.05, blocking_timeout=LOCK_SECONDS)
        try:
            held = await lock.acquire()
        except (RedisError, OSError) as exc:
            self._lost(exc)
            held = False
        try:
            yield
        finally:
            if held:
                with contextlib.suppress(LockError, RedisError, OSError):
                    await lock.release()


def _cooldown_field(cooldown: base.Cooldown) -> str:
    return f"{cooldown.email}\x1f{cooldown.model}"


def _stage(pipe: Any, change: base.Change) -> None:
    """The write that makes `change` part of the snapshot."""
    match change:
        case base.Cooldown():
            pipe.hset(COOLDOWNS, _cooldown_field(change), base.encode(change))
        case base.Binding():
            pipe.hset(SESSIONS, change.session, base.encode(change))
        case base.Current():
            pipe.hset(CURRENT, change.model, change.email)
        case base.AccountPut():
            pipe.hset(ACCOUNTS, change.email, bytes(change.data))
            pipe.srem(REMOVED, change.email)
        case base.AccountGone():
            pipe.hdel(ACCOUNTS, change.email)
            pipe.hdel(TOKENS, change.email)
            pipe.sadd(REMOVED, change.email)
        case base.Cleared():
            pipe.delete(COOLDOWNS, SESSIONS, CURRENT)
        case base.Routing():
            pass  # published only: each instance starts from its own config
        case _:
            assert_never(change)


async def check(url: str) -> None:
    """Raise StateUnavailable unless Redis answers at `url` (before starting workers)."""
    client = aioredis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        raise base.StateUnavailable(f"cannot reach Redis at {url}: {exc}") from None
    finally:
        await client.aclose()


async def announce(url: str, changes: list[base.Change]) -> None:
    """For `agm accounts ...`: write and publish changes without running a gateway."""
    store = RedisStore(url)
    try:
        for change in changes:
            store.record(change)
        await store.flush()
    except (RedisError, OSError) as exc:
        raise base.StateUnavailable(f"cannot reach Redis at {url}: {exc}") from None
    finally:
        await store.close()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
