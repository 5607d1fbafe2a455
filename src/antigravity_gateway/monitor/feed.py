"""The live feed behind `GET /api/logs/stream`: every stored row, fanned out to subscribers.

Back-pressure: each subscriber has a bounded queue; a subscriber whose queue is full (a reader
slower than the gateway) is dropped, and its stream ends. Publishing never waits. Lives on the
event loop; the writer thread hands rows over with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
from typing import Any

Row = dict[str, Any]
QUEUE_SIZE = 256


class Subscription:
    """One reader: `rows` yields rows until the reader is dropped or unsubscribes."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[Row | None] = asyncio.Queue(maxsize=size)
        self.dropped = False

    def offer(self, row: Row) -> bool:
        try:
            self.queue.put_nowait(row)
        except asyncio.QueueFull:
            self.dropped = True
            return False
        return True


class Feed:
    """Fans each batch of stored rows out to the live subscribers; drops the slow ones."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self._size = size
        self._subscribers: set[Subscription] = set()
        self.dropped_readers = 0

    def subscribe(self) -> Subscription:
        sub = Subscription(self._size)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def readers(self) -> int:
        return len(self._subscribers)

    def publish(self, rows: list[Row]) -> None:
        for sub in list(self._subscribers):
            for row in rows:
                if not sub.offer(row):
                    self._drop(sub)
                    break

    def _drop(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)
        self.dropped_readers += 1
        while not sub.queue.empty():  # make room for the end marker
            sub.queue.get_nowait()
        sub.queue.put_nowait(None)

    def close(self) -> None:
        for sub in list(self._subscribers):
            self._drop(sub)
