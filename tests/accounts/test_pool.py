"""The pool's decisions with plain values: eligibility, cooldowns, stickiness, P2C, modes."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import msgspec
import pytest
from msgspec.structs import replace as replace_struct

from antigravity_gateway.accounts.pool import ANY_MODEL, Cooldown, Policy, Pool, tier_rank
from antigravity_gateway.accounts.store import Account, ModelQuota, Quota

NOW = 1_800_000_000.0
FLASH = "gemini-3-flash"


@dataclass
class Clock:
    now: float = NOW

    def __call__(self) -> float:
        return self.now


def account(
    email: str, *, tier: str = "free-tier", quota: dict[str, ModelQuota] | None = None, **kw
) -> Account:
    fetched = NOW if quota is not None else 0.0
    models = quota if quota is not None else {}
    return Account(
        id=email.split("@")[0], email=email, refresh_token="rt", tier=tier,
        quota=Quota(models=models, fetched_at=fetched), **kw,
    )


def full(*names: str, fraction: float = 1.0, reset: str = "") -> dict[str, ModelQuota]:
    return {n: ModelQuota(remaining_fraction=fraction, reset_time=reset) for n in names}


def pool(*accounts: Account, clock: Clock | None = None, seed: int = 1, **policy) -> Pool:
    return Pool(accounts, clock=clock or Clock(), rng=random.Random(seed), policy=Policy(**policy))


def picks(p: Pool, model: str = FLASH, n: int = 200, **kw) -> Counter[str]:
    return Counter(chosen.email for _ in range(n) if (chosen := p.pick(model, **kw)))


@pytest.mark.parametrize(
    ("tier", "rank"),
    [("Google AI Ultra", 0), ("g1-ultra-tier", 0), ("g1-pro-tier", 1), ("Google AI Pro", 1),
     ("free-tier", 2), ("Gemini Code Assist for individuals", 2), ("", 2)],
)
def test_tier_rank(tier: str, rank: int) -> None:
    assert tier_rank(tier) == rank


def test_ineligible_accounts_are_skipped() -> None:
    p = pool(
        account("disabled@x", disabled=True),
        account("verify@x", needs_verification=True, verification_url="https://v"),
        account("other-models@x", quota=full("claude-sonnet-4-6")),
        account("ok@x", quota=full(FLASH)),
    )
    assert set(picks(p)) == {"ok@x"}


def test_never_fetched_quota_is_eligible() -> None:
    p = pool(account("new@x"), account("old@x", quota=full(FLASH)))
    assert set(picks(p)) == {"new@x", "old@x"}


def test_a_model_nobody_lists_may_go_to_any_account() -> None:
    p = pool(account("a@x", quota=full(FLASH)), account("b@x", quota=full(FLASH)))
    assert set(picks(p, "brand-new-model")) == {"a@x", "b@x"}


def test_cooldown_is_per_model_and_expires() -> None:
    clock = Clock()
    p = pool(account("a@x"), account("b@x"), clock=clock)
    p.cool("a@x", FLASH, 60, "quota_exhausted")
    assert set(picks(p)) == {"b@x"}
    assert "a@x" in picks(p, "gemini-3.1-pro-low")
    assert p.next_ready(FLASH, exclude={"b@x"}) == pytest.approx(60)
    clock.now += 61
    assert set(picks(p)) == {"a@x", "b@x"}
    assert p.cooldowns() == []


def test_whole_account_cooldown_covers_every_model() -> None:
    p = pool(account("a@x"), account("b@x"))
    p.cool("a@x", ANY_MODEL, 300, "forbidden")
    assert set(picks(p)) == set(picks(p, "claude-sonnet-4-6")) == {"b@x"}


def test_a_longer_cooldown_is_never_shortened() -> None:
    p = pool(account("a@x"))
    p.cool("a@x", FLASH, 100)
    p.cool("a@x", FLASH, 5)
    assert p.next_ready(FLASH) == pytest.approx(100)


def test_exhausted_snapshot_waits_for_its_reset() -> None:
    reset = "2027-01-15T08:00:30Z"  # NOW + 30 s
    p = pool(account("a@x", quota=full(FLASH, fraction=0.0, reset=reset)))
    assert p.pick(FLASH) is None
    assert p.next_ready(FLASH) == pytest.approx(30)


def test_a_past_reset_makes_an_exhausted_snapshot_usable_again() -> None:
    p = pool(account("a@x", quota=full(FLASH, fraction=0.0, reset="2020-01-01T00:00:00Z")))
    assert p.pick(FLASH) is not None


def test_protection_threshold() -> None:
    low = account("low@x", quota=full(FLASH, fraction=0.05))
    high = account("high@x", quota=full(FLASH, fraction=0.5))
    assert set(picks(pool(low))) == {"low@x"}  # the default, 0, protects nothing
    assert set(picks(pool(low, high, protection_threshold=10))) == {"high@x"}
    assert pool(low, protection_threshold=10).pick(FLASH) is None


def test_no_account_at_all() -> None:
    p = pool()
    assert p.pick(FLASH) is None and p.next_ready(FLASH) is None


def test_tier_order_ultra_then_pro_then_the_rest() -> None:
    p = pool(account("free@x"), account("pro@x", tier="g1-pro-tier"),
             account("ultra@x", tier="g1-ultra-tier"))
    assert set(picks(p)) == {"ultra@x"}
    p.cool("ultra@x", FLASH, 60)
    assert set(picks(p)) == {"pro@x"}


def test_power_of_two_choices_prefers_remaining_quota() -> None:
    accounts = [account(f"{n}@x", quota=full(FLASH, fraction=f))
                for n, f in (("a", 0.9), ("b", 0.5), ("c", 0.1))]
    counts = picks(pool(*accounts), n=3000)
    assert counts["a@x"] > counts["b@x"] > counts["c@x"] == 0  # c never wins a pair


def test_sticky_session_keeps_its_account_while_usable() -> None:
    p = pool(*(account(f"{n}@x") for n in "abcd"))
    first = p.pick(FLASH, session="s1")
    assert first is not None
    assert set(picks(p, session="s1")) == {first.email}
    p.cool(first.email, FLASH, 30)
    moved = p.pick(FLASH, session="s1")
    assert moved is not None and moved.email != first.email
    assert set(picks(p, session="s1")) == {moved.email}


def test_balance_sessions_expire_after_the_ttl_cache_first_ones_do_not() -> None:
    for mode, keeps in (("balance", False), ("cache_first", True)):
        clock = Clock()
        p = pool(*(account(f"{n}@x") for n in "abcdefgh"), clock=clock, mode=mode, sticky_ttl=60)
        first = p.pick(FLASH, session="s")
        assert first is not None
        clock.now += 61
        seen = set()
        for _ in range(40):
            clock.now += 61  # every pick is after the TTL
            chosen = p.pick(FLASH, session="s")
            assert chosen is not None
            seen.add(chosen.email)
        assert (seen == {first.email}) is keeps


def test_round_robin_rotates_and_ignores_sessions() -> None:
    p = pool(*(account(f"{n}@x") for n in "abc"), mode="round_robin")
    order = [p.pick(FLASH, session="s") for _ in range(6)]
    assert [a.email for a in order if a] == ["a@x", "b@x", "c@x"] * 2


def test_exclude_and_restore() -> None:
    clock = Clock()
    p = pool(account("a@x"), account("b@x"), clock=clock)
    assert set(picks(p, exclude={"a@x"})) == {"b@x"}
    p.restore([Cooldown(email="a@x", model=FLASH, until=NOW + 10),
               Cooldown(email="b@x", model=FLASH, until=NOW - 1)])
    assert [c.email for c in p.cooldowns()] == ["a@x"]
    assert set(picks(p)) == {"b@x"}


def test_replace_keeps_cooldowns_and_version_tracks_changes() -> None:
    p = pool(account("a@x"), account("b@x"))
    before = p.version
    p.cool("a@x", FLASH, 60)
    assert p.version > before
    p.replace([account("a@x"), account("b@x"), account("c@x")])
    assert set(picks(p)) == {"b@x", "c@x"}


def test_cache_first_keeps_one_current_account_per_model() -> None:
    p = pool(*(account(f"{n}@x", quota=full(FLASH, "claude-sonnet-4-6")) for n in "abcd"),
             mode="cache_first")
    served = {chosen.email for n in range(40) if (chosen := p.pick(FLASH, session=f"s{n}"))}
    assert served == {"a@x"} and p.current(FLASH) == "a@x"  # best tier, most quota, then name


def test_cache_first_moves_on_a_cooldown_and_stays_moved() -> None:
    clock = Clock()
    p = pool(account("a@x"), account("b@x"), clock=clock, mode="cache_first")
    assert p.pick(FLASH, session="old") is not None and p.current(FLASH) == "a@x"
    p.cool("a@x", FLASH, 60, "quota_exhausted")
    assert set(picks(p, session="new")) == {"b@x"} and p.current(FLASH) == "b@x"
    assert "a@x" in {a.email for a in [p.pick("claude-sonnet-4-6")] if a}  # other models stay
    clock.now += 61  # a@x is usable again: new conversations stay on the current one
    assert {p.pick(FLASH, session=f"n{n}").email for n in range(20)} == {"b@x"}  # type: ignore[union-attr]


def test_cache_first_moves_on_a_flag_or_protection() -> None:
    low = account("a@x", quota=full(FLASH, fraction=0.05))
    p = pool(low, account("b@x", quota=full(FLASH, fraction=0.04)), mode="cache_first")
    assert p.pick(FLASH) is not None and p.current(FLASH) == "a@x"
    p.update(msgspec.structs.replace(low, needs_verification=True))
    assert set(picks(p)) == {"b@x"} and p.current(FLASH) == "b@x"


def test_cache_first_a_failed_attempt_does_not_move_the_current_account() -> None:
    p = pool(account("a@x"), account("b@x"), mode="cache_first")
    assert p.pick(FLASH) is not None
    assert set(picks(p, exclude={"a@x"})) == {"b@x"}
    assert p.current(FLASH) == "a@x" and set(picks(p)) == {"a@x"}


def test_cache_first_a_bound_conversation_keeps_its_account() -> None:
    clock = Clock()
    p = pool(account("a@x"), account("b@x"), clock=clock, mode="cache_first")
    p.cool("a@x", FLASH, 60)
    assert p.pick(FLASH, session="conv").email == "b@x"  # type: ignore[union-attr]
    clock.now += 61
    p.cool("b@x", FLASH, 10)  # the current account moves back to a@x
    assert p.pick(FLASH, session="other").email == "a@x"  # type: ignore[union-attr]
    clock.now += 11  # b@x is usable again: the conversation bound to it stays there
    assert set(picks(p, session="conv")) == {"b@x"}
    assert set(picks(p, session="fresh")) == {"a@x"}


def test_changes_are_recorded_and_applied_elsewhere() -> None:
    from antigravity_gateway.state.base import Change

    sent: list[Change] = []
    one = Pool(accounts=[account("a@x"), account("b@x")], clock=Clock(), record=sent.append,
               policy=Policy(mode="cache_first"))
    other = pool(clock=Clock())
    other.load(one.snapshot())
    one.cool("a@x", FLASH, 60, "quota_exhausted")
    one.pick(FLASH, session="conversation")
    one.update(msgspec.structs.replace(one.accounts[0], needs_verification=True))
    for change in sent:
        other.apply(change)
    assert [(c.email, c.reason) for c in other.cooldowns()] == [("a@x", "quota_exhausted")]
    assert other.bound_to("conversation") == "b@x" and other.current(FLASH) == "b@x"
    assert [a.email for a in other.usable()] == ["b@x"]
    one.remove("b@x")
    one.forget_all()
    for change in sent[-2:]:
        other.apply(change)
    assert [a.email for a in other.accounts] == ["a@x"] and other.cooldowns() == []


def test_a_known_binding_is_shared_again_only_when_it_moves_or_ages() -> None:
    clock = Clock()
    sent: list[object] = []
    p = Pool([account("a@x")], clock=clock, record=sent.append, policy=Policy(sticky_ttl=40))
    for _ in range(5):
        p.pick(FLASH, session="s")
    assert len(sent) == 1
    clock.now += 11  # over a quarter of the TTL
    p.pick(FLASH, session="s")
    assert len(sent) == 2


def test_usable_accounts_follow_every_change() -> None:
    """The usable list is sorted out once per change of the accounts, not per request."""
    p = pool(account("a@x"), account("b@x"))
    p.update(replace_struct(p.get("a@x"), disabled=True))
    assert [a.email for a in p.usable()] == ["b@x"]
    p.put(account("c@x"))
    p.remove("b@x")
    assert [a.email for a in p.usable()] == ["c@x"]
    p.usable().clear()  # a caller's copy: the pool's own list is untouched
    assert [a.email for a in p.usable()] == ["c@x"]
    p.replace([account("d@x", needs_verification=True)])
    assert p.usable() == [] and p.pick(FLASH) is None
