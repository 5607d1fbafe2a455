"""The state stores with pools in one process: memory shares nothing; two Redis-backed pools
see each other's changes, batch their writes, serialise token refreshes, survive a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec
import pytest

from antigravity_gateway.accounts.pool import Policy, Pool
from antigravity_gateway.accounts.store import Account
from antigravity_gateway.state.base import StateUnavailable, Token
from antigravity_gateway.state.memory import MemoryStore
from antigravity_gateway.state.redis import ROUND_TRIPS, RedisStore
from tests.e2e.gateway import free_port
from tests.redis_server import RedisServer, redis_server_fixture

FLASH = "gemini-3-flash"

redis_server = pytest.fixture(scope="module")(redis_server_fixture)


@pytest.fixture(autouse=True)
def _empty(request: pytest.FixtureRequest) -> Iterator[None]:
    if "redis_server" in request.fixturenames:
        request.getfixturevalue("redis_server").command("FLUSHALL")
    yield


def accounts(*names: str) -> list[Account]:
    return [Account(id=n, email=f"{n}@x", refresh_token="rt") for n in names]


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the timeout"
        await asyncio.sleep(0.01)


async def connected(url: str, *names: str, mode: str = "balance") -> tuple[Pool, RedisStore]:
    store = RedisStore(url)
    pool = Pool(accounts(*names), policy=Policy(mode=mode), record=store.record)
    await store.open(pool)
    return pool, store


async def test_the_memory_store_shares_nothing() -> None:
    store = MemoryStore()
    pool = Pool(accounts("a"), record=store.record)
    await store.open(pool)
    pool.cool("a@x", FLASH, 60)
    async with store.refresh_lock("a@x"):
        assert await store.token("a@x") is None
    await store.close()


async def test_changes_reach_the_other_instance(redis_server: RedisServer) -> None:
    one, first = await connected(redis_server.url, "a", "b", mode="cache_first")
    two, second = await connected(redis_server.url)  # knows no account itself
    assert {a.email for a in two.accounts} == {"a@x", "b@x"}
    one.cool("a@x", FLASH, 60, "quota_exhausted")
    await eventually(lambda: [c.email for c in two.cooldowns()] == ["a@x"])
    chosen = one.pick("claude-sonnet-4-6", session="conversation")
    assert chosen is not None
    await eventually(lambda: two.bound_to("conversation") == chosen.email)
    await eventually(lambda: two.current("claude-sonnet-4-6") == chosen.email)
    one.update(msgspec.structs.replace(chosen, disabled=True))
    await eventually(lambda: two.usable() == [a for a in two.accounts if a.email != chosen.email])
    one.remove(chosen.email)
    await eventually(lambda: len(two.accounts) == 1)
    one.forget_all()
    await eventually(lambda: two.cooldowns() == [] and two.bound_to("conversation") is None)
    await first.close()
    await second.close()


async def test_writes_are_batched(redis_server: RedisServer) -> None:
    pool, store = await connected(redis_server.url, *"abcd")
    for n in range(200):
        pool.pick(FLASH, session=f"conversation {n}")  # one binding each
    await store.flush()
    assert int(redis_server.command("GET", ROUND_TRIPS)) < 200
    assert int(redis_server.command("HLEN", "agm:sessions")) == 200
    await store.close()


async def test_one_refresh_across_instances(redis_server: RedisServer) -> None:
    stores = [RedisStore(redis_server.url) for _ in range(3)]
    for store in stores:
        await store.open(Pool())
    refreshed: list[str] = []

    async def refresh(store: RedisStore) -> Token:
        async with store.refresh_lock("a@x"):
            if (token := await store.token("a@x")) is not None:
                return token
            await asyncio.sleep(0.1)  # the OAuth round trip
            token = Token(access_token=f"at-{len(refreshed)}", expires_at=time.time() + 3600)
            refreshed.append(token.access_token)
            await store.put_token("a@x", token)
            return token

    tokens = await asyncio.gather(*(refresh(s) for s in stores for _ in range(3)))
    assert refreshed == ["at-0"] and {t.access_token for t in tokens} == {"at-0"}
    for store in stores:
        await store.close()


async def test_a_restarted_redis_is_seeded_again(redis_server: RedisServer) -> None:
    one, first = await connected(redis_server.url, "a", "b")
    two, second = await connected(redis_server.url)
    redis_server.kill()
    one.cool("a@x", FLASH, 60)  # learned while Redis is away: queued
    await eventually(lambda: not first.connected and not second.connected)
    redis_server.start()
    await eventually(lambda: first.connected and second.connected)
    await eventually(lambda: [c.email for c in two.cooldowns()] == ["a@x"])
    assert len(two.accounts) == 2
    assert redis_server.command("HLEN", "agm:accounts") == "2"
    await first.close()
    await second.close()


async def test_no_redis_at_start_is_a_clear_error(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with pytest.raises(StateUnavailable, match=f"cannot reach Redis at {url}"):
        await RedisStore(url).open(Pool())




async def test_expired_cooldowns_are_dropped_from_redis(redis_server: RedisServer) -> None:
    one, first = await connected(redis_server.url, "a")
    one.cool("a@x", FLASH, 0.05)
    one.cool("a@x", "claude-sonnet-4-6", 60)
    await first.flush()
    await asyncio.sleep(0.1)
    two, second = await connected(redis_server.url)
    assert [c.model for c in two.cooldowns()] == ["claude-sonnet-4-6"]
    assert redis_server.command("HLEN", "agm:cooldowns") == "1"
    await first.close()
    await second.close()


async def test_an_account_removed_meanwhile_is_not_seeded_back(redis_server: RedisServer) -> None:
    one, first = await connected(redis_server.url, "a", "b")
    one.remove("b@x")
    await first.flush()
    later, second = await connected(redis_server.url, "a", "b")  # its disk still has b@x
    assert [a.email for a in later.accounts] == ["a@x"]
    one.put(accounts("b")[0])  # added again: back for everyone
    await eventually(lambda: len(later.accounts) == 2)
    await first.close()
    await second.close()
