"""The default state store: one process, nothing to share.

The pool's in-memory view is the whole state, so recording a change costs one no-op call and
token refreshes are single-flight through the account service's own per-account locks.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractAsyncContextManager

from .base import Change, Listener, Token


class MemoryStore:
    """`state.backend = "memory"`: today's behaviour, for one gateway process."""

    shared = False
    connected = True

    async def open(self, listener: Listener) -> None:
        return None

    def record(self, change: Change) -> None:
        return None

    async def token(self, email: str) -> Token | None:
        return None

    async def put_token(self, email: str, token: Token) -> None:
        return None

    def refresh_lock(self, email: str) -> AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()

    async def close(self) -> None:
        return None
