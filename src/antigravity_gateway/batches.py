"""A queue whose one reader, a writer thread, takes batches: it wakes on the first item, lets
SHORTEST seconds' worth gather, and below GATHER items waits on for more, LONGEST seconds in all.

Every wake-up of a writer thread costs the core its caches: at one coding agent's pace (20
req/s) a write per request cost the gateway's two writers ~500 µs a request, batches ~120 µs
(bench/README.md, "Session 10").
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Generic, TypeVar

# Under load a batch is what SHORTEST gathers, so a write never holds the core long (0.1 s of
# monitor rows at 1,000 req/s held it ~1.3 ms: a p99 hit).
SHORTEST = 0.02
GATHER = 20  # fewer than this in SHORTEST: the load is light, wait for more
LONGEST = 0.25  # how late a log line or a monitor row may be: a person watching won't mind

T = TypeVar("T")
_END: Any = object()  # what `close` queues: the reader's last batch


class Batches(Generic[T]):
    """Items in from any thread (never blocking, at most `capacity` waiting), batches out to
    the one reader."""

    def __init__(self, capacity: int) -> None:
        # SimpleQueue (C): 0.17 µs an item in and out, queue.Queue's locks 2.5 µs
        self._queue: queue.SimpleQueue[T] = queue.SimpleQueue()
        self._capacity = capacity
        self._urgent = threading.Event()
        self._gathered = threading.Event()
        self.ended = False  # the reader has taken its last batch: it may stop

    def qsize(self) -> int:
        return self._queue.qsize()

    def put(self, item: T, *, urgent: bool = False) -> bool:
        """Queue `item`, unless `capacity` items wait already (False: the caller counts the
        drop). An `urgent` one (a command; `close` too) always goes and ends the reader's wait."""
        if urgent:
            self._queue.put(item)
            self._urgent.set()
            self._gathered.set()
            return True
        waiting = self._queue.qsize()
        if waiting >= self._capacity:
            return False
        self._queue.put(item)
        if waiting + 1 >= GATHER and not self._gathered.is_set():
            self._gathered.set()
        return True

    def close(self) -> None:
        """End the reader's wait: it takes what is queued, then `ended` is true."""
        self.put(_END, urgent=True)

    def take(self, limit: int | None = None) -> list[T]:
        """Wait for an item, then for a batch; what is queued, up to `limit` (after `close`,
        the batch that sets `ended` may be empty)."""
        items = [self._queue.get()]
        if not self._urgent.wait(SHORTEST):
            self._gathered.wait(LONGEST - SHORTEST)
        self._urgent.clear()
        self._gathered.clear()
        while limit is None or len(items) < limit:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        if any(item is _END for item in items):
            self.ended = True
            items = [item for item in items if item is not _END]
        return items
