"""Scale-out (issue #18): three `agm serve` instances share one pool through a real Redis.

Each instance has its own data dir (as on three machines, each with a copy of the accounts),
so whatever one learns reaches the others only through Redis. The access tokens have already
expired when the instances start. Tests run in file order and use their own model ids.
"""

from __future__ import annotations

import dataclasses
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from tests.e2e.gateway import API_KEY, Gateway, agm, enroll, free_port, write_config
from tests.fakes import quota_exhausted
from tests.fakes.cloudcode import FakeGoogle, FakeGoogleThread
from tests.redis_server import RedisServer, redis_server_fixture

FLASH = "gemini-3-flash"
EMAILS = ["user1@example.com", "user2@example.com"]

redis_server = pytest.fixture(scope="module")(redis_server_fixture)


def model(n: int) -> str:
    return f"{FLASH}-s{n}"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogleThread(token_lifetime=1) as fake:
        for n in range(8):
            fake.add_model(dataclasses.replace(fake.models[FLASH], id=model(n)))
        yield fake


@pytest.fixture(autouse=True)
def _fresh_fake() -> None:
    """The e2e default clears the simulator's records before each test; here the first test
    counts the token refreshes made while the instances started."""


def shared(redis: RedisServer) -> dict[str, object]:
    return {"state": {"backend": "redis", "redis_url": redis.url}}


@pytest.fixture(scope="module")
def gateways(
    fake: FakeGoogle, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Gateway]]:
    first = Path(tmp_path_factory.mktemp("agm1"))
    write_config(first, fake, free_port())
    for email in EMAILS:
        enroll(fake, first, email)
    time.sleep(1.1)  # every access token has expired
    fake.options.token_lifetime = 3599
    fake.clear_received()
    dirs = [first, Path(tmp_path_factory.mktemp("agm2")), Path(tmp_path_factory.mktemp("agm3"))]
    for other in dirs[1:]:
        shutil.copytree(first / "accounts", other / "accounts")
    started = [Gateway.start(fake, d, accounts=0, sections=shared(redis_server), wait=False,
                             max_attempts=2) for d in dirs]
    for gateway in started:
        gateway.wait_healthy()
    yield started
    for gateway in started:
        gateway.stop()


def client(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)


def ask(gateway: Gateway, name: str, messages: list[dict[str, str]] | str) -> str:
    """The account that answered."""
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    raw = client(gateway).chat.completions.with_raw_response.create(
        model=name, messages=messages)  # type: ignore[arg-type]
    assert raw.parse().choices[0].message.content
    return raw.headers["X-Account-Email"]


def load(gateways: list[Gateway], name: str, per_instance: int) -> list[str]:
    jobs = [(g, f"load {i} on {g.port}") for g in gateways for i in range(per_instance)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(lambda job: ask(job[0], name, job[1]), jobs))


def test_expired_tokens_are_refreshed_once_per_account_across_instances(
    gateways: list[Gateway], fake: FakeGoogle
) -> None:
    served = load(gateways, model(0), per_instance=6)
    assert set(served) <= set(EMAILS)
    refreshed = sorted(r.email or "" for r in fake.calls("token"))
    assert refreshed == EMAILS  # once each, however many instances wanted a fresh token
    for email in EMAILS:  # the tokens stop working: each instance gets 401s at the same time
        fake.expire_access_tokens(email)
    fake.clear_received()
    assert set(load(gateways, model(0), per_instance=6)) <= set(EMAILS)
    assert sorted(r.email or "" for r in fake.calls("token")) == EMAILS


def test_a_quota_learned_by_one_instance_keeps_every_instance_away(
    gateways: list[Gateway], fake: FakeGoogle, redis_server: RedisServer
) -> None:
    fake.clear_received()
    fake.script_for(quota_exhausted(model(1), reset_in=7200), model=model(1))
    ask(gateways[0], model(1), "first")
    [refused] = [c.email for c in fake.calls("streamGenerateContent") if c.status == 429]
    time.sleep(0.5)
    fake.clear_received()
    served = load(gateways[1:], model(1), per_instance=10)
    assert refused not in served
    assert all(c.email != refused for c in fake.calls("streamGenerateContent"))
    shared_cooldowns = redis_server.command("HKEYS", "agm:cooldowns").splitlines()
    assert shared_cooldowns == [f"{refused}\x1f{model(1)}"]  # for that model only


def test_a_conversation_keeps_its_account_across_instances(gateways: list[Gateway]) -> None:
    for n in range(4):
        history = [{"role": "user", "content": f"conversation {n}: tell me about {n}"}]
        first = ask(gateways[n % 3], model(3), history)
        for turn in range(6):
            history += [{"role": "assistant", "content": "sure"},
                        {"role": "user", "content": f"and then {turn}?"}]
            assert ask(gateways[(n + turn + 1) % 3], model(3), history) == first


def test_an_account_disabled_through_one_instance_is_not_used_by_another(
    gateways: list[Gateway],
) -> None:
    [off, on] = EMAILS
    done = agm(gateways[1].data_dir, "accounts", "disable", off)
    assert done.returncode == 0, done.stderr
    time.sleep(1.0)
    assert set(load(gateways[2:], model(4), per_instance=12)) == {on}
    assert agm(gateways[1].data_dir, "accounts", "enable", off).returncode == 0
    time.sleep(1.0)
    assert off in load(gateways[2:], model(4), per_instance=20)


def test_a_routing_setting_changed_through_one_instance_reaches_another(
    gateways: list[Gateway],
) -> None:
    mapping = f'{{"team-model" = "{model(7)}"}}'
    done = agm(gateways[1].data_dir, "config", "set", "models.custom_mapping", mapping)
    assert done.returncode == 0, done.stderr
    done = agm(gateways[1].data_dir, "config", "set", "scheduling.mode", "cache_first")
    assert done.returncode == 0, done.stderr
    time.sleep(1.0)
    served = {ask(gateways[2], "team-model", f"new conversation {n}") for n in range(10)}
    assert len(served) == 1  # cache_first: every new conversation on the current account


def test_killing_redis_loses_no_request_and_the_instances_resync(
    gateways: list[Gateway], fake: FakeGoogle, redis_server: RedisServer
) -> None:
    failures: list[BaseException] = []
    stop = threading.Event()

    def keep_asking(gateway: Gateway) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                ask(gateway, model(5), f"steady {gateway.port} {n}")
            except BaseException as exc:  # noqa: BLE001 - any failure fails the test
                failures.append(exc)

    threads = [threading.Thread(target=keep_asking, args=(g,)) for g in gateways]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    redis_server.kill()
    time.sleep(1.5)
    redis_server.start()  # empty: the instances seed it again from what they know
    time.sleep(1.5)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []
    for gateway in gateways:
        log = gateway.log_with("unreachable", "is back: resynchronised")
        assert "unreachable" in log and "is back: resynchronised" in log
    assert int(redis_server.command("HLEN", "agm:accounts")) == len(EMAILS)
    fake.clear_received()
    fake.script_for(quota_exhausted(model(6), reset_in=7200), model=model(6))
    ask(gateways[0], model(6), "after the return")
    [refused] = [c.email for c in fake.calls("streamGenerateContent") if c.status == 429]
    time.sleep(0.5)
    assert refused not in load(gateways[1:], model(6), per_instance=10)
