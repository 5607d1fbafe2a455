"""`GET/PATCH /api/config`, `GET /api/key`, `POST /api/key/regenerate` and
`GET /api/models/resolve`: settings read and changed while serving.

A PATCH of `{"dotted.key": value}` is applied to what config.toml says, validated as a whole
(400 names the key, nothing written), written atomically, then applied to the running gateway.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from ..accounts.store import AccountStore
from ..errors import InvalidRequest
from ..settings import (
    Settings,
    SettingsError,
    apply_env,
    generate_api_key,
    get_value,
    mask_secret,
    masked,
    read_config,
    save_settings,
    to_builtins,
    unset_value,
    validate,
    with_value,
)
from ..state.base import routing_of
from .context import GATEWAY, STATE, gateway_of, read_json
from .dialects import json_response

# port, bind and state backend need a new listener: written, but answered `restart_required`
RESTART_KEYS = ("proxy.port", "proxy.allow_lan_access", "state.")


@dataclass(slots=True)
class AdminContext:
    """What the admin handlers need besides the gateway."""

    data_dir: Path
    store: AccountStore
    started: float = field(default_factory=time.monotonic)
    config_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


ADMIN = web.AppKey("admin", AdminContext)


def apply_settings(app: web.Application, settings: Settings) -> None:
    """Make `settings` the running gateway's at once, through the one entry point
    (`Gateway.apply_settings`; the monitor follows as one of its listeners), and hand the
    routing part to the other instances sharing the pool (Redis)."""
    app[GATEWAY].apply_settings(settings)
    app[STATE].record(routing_of(settings))


async def show(request: web.Request) -> web.Response:
    return json_response(to_builtins(masked(gateway_of(request).settings)))


def changed_settings(current: Settings, changes: dict[str, Any]) -> Settings:
    """`current` with every change applied, validated as a whole (SettingsError otherwise)."""
    updated = current
    for key, value in changes.items():
        if not isinstance(key, str) or not key:
            raise SettingsError("", "keys must be dotted setting names, e.g. proxy.port")
        if value is None:  # null resets the key (a map entry: removed)
            updated = unset_value(updated, key)
            continue
        if isinstance(value, str) and "…" in value and value == mask_secret(
                str(get_value(updated, key))):
            continue  # a masked secret sent back as it was shown
        updated = with_value(updated, key, value)
    validate(updated)
    return updated


def needs_restart(before: Settings, after: Settings, keys: list[str]) -> bool:
    touched = [k for k in keys if k.startswith(RESTART_KEYS)]
    return any(_get(before, k) != _get(after, k) for k in touched)


def _get(settings: Settings, key: str) -> Any:
    try:
        return get_value(settings, key)
    except SettingsError:
        return None


async def patch(request: web.Request) -> web.Response:
    changes = await read_json(request)
    if not isinstance(changes, dict) or not changes:
        raise InvalidRequest(
            'expected a JSON object of settings, e.g. {"proxy.request_timeout": 300}')
    return await _change(request, changes)


async def show_key(request: web.Request) -> web.Response:
    """The clients' key in clear, for the dashboard's reveal and copy buttons."""
    return json_response({"api_key": gateway_of(request).settings.proxy.api_key})


async def resolve_model(request: web.Request) -> web.Response:
    """`?model=M`: where M is routed now; with `&target=T`: where it would go with `M = T`."""
    model, target = request.query.get("model", ""), request.query.get("target", "")
    if not model:
        raise InvalidRequest("model is required, e.g. ?model=gpt-4o")
    gateway = gateway_of(request)
    custom = {**gateway.settings.models.custom_mapping, model: target} if target else None
    route = gateway.route(model, custom)
    return json_response({"model": model, "mapped_model": route.mapped, "rule": route.rule})


async def regenerate_key(request: web.Request) -> web.Response:
    key = generate_api_key()
    await _change(request, {"proxy.api_key": key})
    return json_response({"api_key": key})


async def _change(request: web.Request, changes: dict[str, Any]) -> web.Response:
    admin = request.app[ADMIN]
    async with admin.config_lock:
        before = await asyncio.to_thread(read_config, admin.data_dir)
        try:
            after = changed_settings(before, changes)
            effective = apply_env(after, os.environ)
        except SettingsError as exc:
            raise InvalidRequest(str(exc)) from None
        await asyncio.to_thread(save_settings, after, admin.data_dir)
        apply_settings(request.app, effective)
    restart = needs_restart(before, after, list(changes))
    return json_response({"restart_required": restart,
                          "config": to_builtins(masked(effective))})
