"""The writer threads' queue: the reader gets a batch, not an item, unless told it is urgent."""

from __future__ import annotations

import threading
import time

import pytest

from antigravity_gateway import batches
from antigravity_gateway.batches import GATHER, Batches

NEVER = 30.0  # a wait that long would fail the test: the reader must not sit it out


def test_a_batch_ends_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "LONGEST", NEVER)
    queue: Batches[int] = Batches(1000)
    for n in range(GATHER + 3):
        queue.put(n)
    started = time.monotonic()
    assert queue.take(1000) == list(range(GATHER + 3))
    assert time.monotonic() - started < NEVER / 2


def test_an_urgent_item_ends_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "LONGEST", NEVER)
    queue: Batches[str] = Batches(1000)
    queue.put("record")
    queue.put("stop", urgent=True)
    started = time.monotonic()
    assert queue.take(1000) == ["record", "stop"]
    assert time.monotonic() - started < NEVER / 2


def test_a_few_items_wait_for_the_longest_and_go_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batches, "LONGEST", 0.2)
    queue: Batches[int] = Batches(1000)
    queue.put(1)
    later = threading.Timer(0.02, queue.put, args=(2,))
    later.start()
    started = time.monotonic()
    assert queue.take(1000) == [1, 2]  # the second came while the reader waited
    assert time.monotonic() - started >= 0.2
    later.join()


def test_take_keeps_what_is_over_the_limit_for_the_next() -> None:
    queue: Batches[int] = Batches(1000)
    for n in range(GATHER * 2):
        queue.put(n)
    assert queue.take(GATHER) == list(range(GATHER))
    assert queue.qsize() == GATHER
    assert queue.take(1000) == list(range(GATHER, GATHER * 2))


def test_the_reader_blocks_until_the_first_item() -> None:
    queue: Batches[int] = Batches(1000)
    taken: list[list[int]] = []
    reader = threading.Thread(target=lambda: taken.append(queue.take(10)))
    reader.start()
    time.sleep(0.05)
    assert not taken
    queue.put(7, urgent=True)
    reader.join(NEVER)
    assert taken == [[7]]


def test_close_hands_over_what_is_queued_then_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batches, "LONGEST", NEVER)
    queue: Batches[str] = Batches(1000)
    queue.put("last line")
    queue.close()
    started = time.monotonic()
    assert queue.take() == ["last line"]
    assert queue.ended
    assert time.monotonic() - started < NEVER / 2
