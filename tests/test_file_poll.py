"""A file watched from its own thread: the loop hears of changes only, and of failed looks."""

from __future__ import annotations

import asyncio
import threading

import pytest

from antigravity_gateway.file_poll import Poll

WAIT = 5.0  # far longer than the looks below take: only a failure waits that long


class Probe:
    """What the watched file looks like now, settable by the test; counts the looks."""

    def __init__(self, value: object) -> None:
        self.value = value
        self.looks = 0

    def __call__(self) -> object:
        self.looks += 1
        if isinstance(self.value, OSError):
            raise self.value
        return self.value


async def test_only_a_change_is_handed_over() -> None:
    probe = Probe("a")
    with Poll(probe, 0.01, "a") as poll:
        await _until(lambda: probe.looks >= 3)
        probe.value = "b"
        assert await asyncio.wait_for(poll.changed(), WAIT) == "b"
        probe.value = "c"
        assert await asyncio.wait_for(poll.changed(), WAIT) == "c"


async def test_again_hands_over_the_next_look_even_unchanged() -> None:
    probe = Probe("a")
    with Poll(probe, 0.01, "a") as poll:
        poll.again()
        assert await asyncio.wait_for(poll.changed(), WAIT) == "a"


async def test_a_failed_look_is_raised_to_the_watcher_and_looking_goes_on() -> None:
    probe = Probe(PermissionError("no access"))
    with Poll(probe, 0.01, "a") as poll:
        with pytest.raises(PermissionError, match="no access"):
            await asyncio.wait_for(poll.changed(), WAIT)
        probe.value = "b"
        assert await _next_value(poll) == "b"


async def test_leaving_the_context_ends_the_thread() -> None:
    before = set(threading.enumerate())  # by identity: other tests' threads may end meanwhile
    with Poll(Probe("a"), 0.01, "a"):
        started = [t for t in threading.enumerate() if t not in before]
        assert [t.name for t in started] == ["agm-file-poll"]
    await _until(lambda: not started[0].is_alive())


async def _until(condition) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.005)


async def _next_value(poll: Poll[object]) -> object:
    while True:
        try:
            return await asyncio.wait_for(poll.changed(), WAIT)
        except PermissionError:  # looks that failed before the fix, queued meanwhile
            continue
