"""The provider contract: one object per upstream kind, and the event stream they all return.

A provider owns its request encoding, transport, error classification (`UpstreamError` with
the status and retry delay) and stream decoding into hub events. It never chooses credentials,
retries or cools anything: `server/attempt.py` does that for every provider alike. A credential
is an `Account`: a Google account, or an API key dressed as one (`key_credentials`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..accounts.store import Account
from ..core.events import Event
from ..core.messages import ChatRequest
from ..routing.models import Route
from .http import Transport


class Chunks(Protocol):
    """A wire stream's chunks as they arrive (providers/http.py `SseChunks`)."""

    async def read(self) -> list[dict[str, Any]]:
        """The chunks received so far; [] once the stream has ended."""
        ...

    @property
    def ended(self) -> bool:
        """Nothing more will come (known as soon as the end arrived, not one read later)."""
        ...

    def close(self) -> None: ...


class ChunkDecoder(Protocol):
    """A wire stream decoder: one upstream chunk (a parsed JSON object) in, hub events out."""

    def feed(self, chunk: dict[str, Any]) -> list[Event]: ...

    def close(self) -> list[Event]: ...


class EventStream:
    """The upstream's chunks decoded into hub events, taken as they arrive.

    `prime()` pulls until something beyond the opening Start arrived (or the stream ended), so
    a failure before the first byte surfaces while another credential can still be tried.
    `watch` adds an observer the events pass, a batch at a time, as the client consumes them;
    `aclose()` closes the upstream response at once (a client that hangs up stops the
    generation).
    """

    def __init__(self, chunks: Chunks, decoder: ChunkDecoder) -> None:
        self._chunks = chunks
        self._decoder = decoder
        self._see: Callable[[list[Event]], None] = _ignore
        self._ready: list[Event] = []  # a few events at a time; a deque's block costs 0.7 KB
        self._ended = False

    def watch(self, see: Callable[[list[Event]], None]) -> None:
        self._see = see

    async def prime(self) -> None:
        while len(self._ready) < 2 and await self._pull():
            pass

    async def _pull(self) -> bool:
        """Decode the chunks received next into the buffer; False once the stream has ended."""
        if self._ended:
            return False
        for chunk in await self._chunks.read():
            self._ready.extend(self._decoder.feed(chunk))
        if self._chunks.ended:
            self._ended = True
            self._ready.extend(self._decoder.close())
        return True

    @property
    def exhausted(self) -> bool:
        """Every event was taken and the upstream has ended: no more will come."""
        return self._ended and not self._ready

    async def take(self) -> list[Event]:
        """Every event received and not yet taken, waiting for some when there are none; []
        once the stream has ended. All of them at once: a relay writes them in one socket write
        (one per event cost ~5 us each in system calls), and the consumer wakes once per
        upstream chunk, not once per event (bench/README.md)."""
        while not self._ready:
            if not await self._pull():
                return []
        ready, self._ready = self._ready, []
        self._see(ready)
        return ready

    async def aclose(self) -> None:
        self._chunks.close()


def _ignore(_: list[Event]) -> None:
    return None


class Provider(Protocol):
    """What the gateway needs from an upstream kind."""

    async def open_stream(
        self, req: ChatRequest, route: Route, credential: Account
    ) -> EventStream: ...

    async def count_tokens(self, req: ChatRequest, route: Route, credential: Account) -> int:
        """The upstream's own count of the request's input; 0 when it has no such call."""
        ...

    def list_models(self) -> set[str]: ...


def key_credentials(upstream: str, keys: list[str]) -> list[Account]:
    """API keys as pool members: each one's label (the upstream's name, numbered when it has
    several keys) stands where a Google account has its email; a key is never shown."""
    if len(keys) == 1:
        return [Account(id=upstream, email=upstream, refresh_token=keys[0], access_token=keys[0])]
    labels = [f"{upstream}#{n}" for n in range(1, len(keys) + 1)]
    return [
        Account(id=label, email=label, refresh_token=key, access_token=key)
        for label, key in zip(labels, keys, strict=True)
    ]


class KeyedProvider:
    """What every API-key provider shares: its transport and the model names it lists."""

    def __init__(self, transport: Transport, models: list[str]) -> None:
        self.transport = transport
        self._models = models

    def list_models(self) -> set[str]:
        """The plain (non-glob) names of the upstream's `models`."""
        return {name for name in self._models if "*" not in name}
