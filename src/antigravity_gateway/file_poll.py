"""Files watched from a thread of their own: it looks every so often and wakes the event loop
only when what it sees has changed. Looking through `asyncio.to_thread` woke the loop and a
worker thread every time: an idle gateway made 19 thread wake-ups and 1.8 ms of CPU a second,
from a thread 4 and 1.0 (bench/README.md, "Session 10").
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
_UNSEEN = object()


class Poll(Generic[T]):
    """`probe` runs every `interval` s on its thread; `changed()` gives each result unlike the
    one before (`seen` at first), and raises the OSError a look raised. Use it as a context."""

    def __init__(self, probe: Callable[[], T], interval: float, seen: T) -> None:
        self._probe = probe
        self._interval = interval
        self._seen: object = seen
        self._loop = asyncio.get_running_loop()
        self._changes: asyncio.Queue[T | OSError] = asyncio.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="agm-file-poll", daemon=True)

    def __enter__(self) -> Poll[T]:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()

    def again(self) -> None:
        """Give the next look's result even when it is the same."""
        self._seen = _UNSEEN

    async def changed(self) -> T:
        found = await self._changes.get()
        if isinstance(found, OSError):
            raise found
        return found

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                now = self._probe()
            except OSError as exc:  # handed over every time: the watcher says what failed
                if not self._hand_over(exc):
                    return
                continue
            if now != self._seen:
                self._seen = now
                if not self._hand_over(now):
                    return

    def _hand_over(self, found: T | OSError) -> bool:
        try:
            self._loop.call_soon_threadsafe(self._changes.put_nowait, found)
        except RuntimeError:  # the loop is closed: nobody is watching any more
            return False
        return True
