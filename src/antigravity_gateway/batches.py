"""A queue whose one reader, a writer thread, takes batches: it wakes on the first item, then
waits until GATHER are queued or LONGEST seconds have passed, whichever comes first.

Every wake-up of a writer thread costs the core its caches: at one coding agent's pace a write
per request cost the gateway's two writers ~530 µs a request, a batch a quarter second ~70 µs
(bench/README.md, "Session 10"). Under load GATHER ends the wait early, so a write never holds
the core long (0.1 s of monitor rows at 1,000 req/s held it ~1.3 ms: a p99 hit).
"""

from __future__ import annotations

import queue
import threading
from typing import Generic, TypeVar

GATHER = 20  # monitor rows one write takes in ~0.25 ms: a request arriving meanwhile waits that
LONGEST = 0.25  # how late a log line or a monitor row may be: a person watching won't mind

T = TypeVar("T")


class Batches(Generic[T]):
    """Items in from any thread (never blocking), batches out to the one reader."""

    def __init__(self) -> None:
        # SimpleQueue (C): 0.17 µs an item in and out, queue.Queue's locks 2.5 µs
        self._queue: queue.SimpleQueue[T] = queue.SimpleQueue()
        self._gathered = threading.Event()

    def qsize(self) -> int:
        return self._queue.qsize()

    def put(self, item: T, *, urgent: bool = False) -> None:
        """Queue `item`; `urgent` (a command, the stop) ends the reader's wait at once."""
        self._queue.put(item)
        if (urgent or self._queue.qsize() >= GATHER) and not self._gathered.is_set():
            self._gathered.set()

    def take(self, limit: int | None = None) -> list[T]:
        """Wait for an item, then for a batch (or LONGEST s); what is queued, up to `limit`."""
        items = [self._queue.get()]
        self._gathered.wait(LONGEST)
        self._gathered.clear()
        while limit is None or len(items) < limit:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items
