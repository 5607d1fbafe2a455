"""`agm upstreams list` and `agm upstreams test NAME`: the API-key upstreams from the config.

`test` sends one tiny streamed request through the same provider and attempt loop the gateway
uses (keys rotate, faults are classified) and prints the latency and the answer. Keys are
never printed.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import click

from . import settings as cfg
from .cli import AgmGroup, UserError, _data_dir, _quiet_logs, data_dir_option, main

if TYPE_CHECKING:  # the rest is imported by the commands that use it (agm start-up time)
    from .core.messages import ChatResponse
    from .server.upstreams import KeyLane
    from .settings.schema import UpstreamEntry

PROMPT = "Reply with the single word OK."


@main.group(cls=AgmGroup)
@data_dir_option
def upstreams() -> None:
    """The API-key upstreams ([[upstreams]] and [zai])."""


@upstreams.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (no keys).")
@data_dir_option
def upstreams_list(as_json: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from .server.upstreams import entries

    settings = cfg.load_settings(_data_dir())
    rows = [_row(entry) for entry in entries(settings)]
    if as_json:
        click.echo(json.dumps({"upstreams": rows}, indent=2))
        return
    if not rows:
        click.echo("no upstreams: add [[upstreams]] tables to config.toml, or enable [zai]")
        return
    table = Table("name", "kind", "base url", "keys", "models")
    for row in rows:
        table.add_row(row["name"], row["kind"], row["base_url"], str(row["keys"]),
                      ", ".join(row["models"]) or "-")
    Console(width=200).print(table)


def _row(entry: UpstreamEntry) -> dict[str, Any]:
    return {"name": entry.name, "kind": entry.kind, "base_url": entry.base_url,
            "keys": len(entry.api_keys), "models": list(entry.models)}


@upstreams.command("test")
@click.argument("name")
@click.option("--model", help="The upstream model to ask (default: the first listed one).")
@data_dir_option
def upstreams_test(name: str, model: str | None) -> None:
    """Send one tiny request to upstream NAME; print the latency and the answer."""
    import asyncio

    settings = cfg.load_settings(_data_dir())
    with _quiet_logs():
        answer, seconds, label, used = asyncio.run(_test(settings, name, model))
    click.echo(f"{name}/{used} via {label}: {seconds * 1000:.0f} ms")
    click.echo(answer.text.strip() or "(empty answer)")


async def _test(settings: cfg.Settings, name: str,
                model: str | None) -> tuple[ChatResponse, float, str, str]:
    from .core.messages import ChatRequest, Message, Text
    from .providers import wire
    from .routing.models import Route
    from .server.attempt import Limits, attempt
    from .server.relay import assemble
    from .server.upstreams import Upstreams

    async with wire.Client() as upstream:
        registry = Upstreams(upstream, time.time)
        registry.sync(settings)
        lane = registry.lanes.get(name)
        if lane is None:
            known = ", ".join(registry.lanes) or "none configured"
            raise UserError(f"no upstream named {name!r} (upstreams: {known})")
        used = model or _default_model(lane)
        req = ChatRequest(model=used, max_tokens=16, stream=True,
                          messages=(Message(role="user", parts=(Text(text=PROMPT),)),))
        route = Route(used, used, "upstream", provider=name)
        started = time.perf_counter()

        async def call(credential: Any) -> ChatResponse:
            return await assemble(await lane.provider.open_stream(req, route, credential))

        limits = Limits(max_attempts=settings.proxy.max_attempts,
                        max_wait=settings.proxy.max_wait_seconds)
        outcome = await attempt(lane, limits, call, model=used)
        return outcome.value, time.perf_counter() - started, outcome.credential.email, used


def _default_model(lane: KeyLane) -> str:
    from .routing.zai import zai_model
    from .server.upstreams import ZAI

    if lane.name == ZAI:
        return zai_model("claude-sonnet-4-5", {})
    plain = sorted(lane.provider.list_models())
    if not plain:
        raise UserError(f"upstream {lane.name} lists no plain model name; pass --model")
    return plain[0]
