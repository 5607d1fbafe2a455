"""What the account pool shares: `base` (records, the Store interface), `memory` (default),
`redis` (several processes or machines). `new_store` picks one from `[state]`."""

from __future__ import annotations

from ..settings import Settings
from .base import Store
from .memory import MemoryStore


def new_store(settings: Settings) -> Store:
    """The store `[state] backend` names (the redis module is imported only when used)."""
    if settings.state.backend == "redis":
        from .redis import RedisStore

        return RedisStore(settings.state.redis_url)
    return MemoryStore()
