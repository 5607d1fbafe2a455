"""Between the pool's shared state and the rest: what other instances change reaches the pool
or the gateway's settings (`SharedView`), and `agm` commands announce their changes (`share`).

Only routing settings travel (`state.base.ROUTING_SECTIONS`), published to running instances
and never stored: each instance starts from its own config file.
"""

from __future__ import annotations

import asyncio
import logging
import sys

import msgspec

from .accounts.pool import Policy
from .accounts.store import Account
from .server.pipeline import Gateway
from .settings import Settings
from .settings.schema import ModelsSettings, QuotaSettings, SchedulingSettings
from .state.base import (
    AccountPut,
    Change,
    Routing,
    Snapshot,
    StateUnavailable,
    routing_of,
)

log = logging.getLogger(__name__)


class SharedView:
    """What other instances change: pool state to the pool, routing settings to the gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def apply(self, change: Change) -> None:
        if isinstance(change, Routing):
            self.gateway.settings = apply_routing(self.gateway.settings, change)
            self.gateway.pool.policy = Policy.of(self.gateway.settings)
            log.info("routing settings changed through another instance")
        else:
            self.gateway.pool.apply(change)

    def load(self, snapshot: Snapshot) -> None:
        self.gateway.pool.load(snapshot)

    def snapshot(self) -> Snapshot:
        return self.gateway.pool.snapshot()


def apply_routing(settings: Settings, routing: Routing) -> Settings:
    """`settings` with the published routing sections (an unreadable one changes nothing)."""
    try:
        sections = msgspec.json.decode(routing.data, type=_RoutingSections)
    except msgspec.ValidationError as exc:
        log.warning("ignoring unreadable routing settings from another instance: %s", exc)
        return settings
    return msgspec.structs.replace(settings, models=sections.models,
                                   scheduling=sections.scheduling, quota=sections.quota)


class _RoutingSections(msgspec.Struct):
    models: ModelsSettings
    scheduling: SchedulingSettings
    quota: QuotaSettings


def share(settings: Settings, change: Change | Account | Settings) -> None:
    """With `[state] backend = "redis"`, tell the running instances now (without it each one
    reloads its own data dir within seconds); an account is put whole, settings share their
    routing sections. Redis unreachable: a warning on stderr (the change is saved locally)."""
    if settings.state.backend != "redis":
        return
    from .state.redis import announce

    if isinstance(change, Account):
        change = AccountPut(email=change.email, data=msgspec.Raw(msgspec.json.encode(change)))
    elif isinstance(change, Settings):
        change = routing_of(change)
    try:
        asyncio.run(announce(settings.state.redis_url, [change]))
    except StateUnavailable as exc:
        print(f"warning: saved, but not shared: {exc}", file=sys.stderr)
