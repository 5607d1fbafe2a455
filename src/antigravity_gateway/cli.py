"""The `agm` command line: thin click commands over settings, the account store and service.

Every command takes `--data-dir` (before or after the subcommand; same as `AGM_DATA_DIR`).
User errors print one line starting with "error: " on stderr and exit 1 (click usage errors
exit 2); no tracebacks. Secrets are never printed except by `key` and `--reveal`.
The server itself lives in `server.runner`, imported only by `serve`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click
import msgspec

from . import settings as cfg
from .accounts.store import Account, AccountStore
from .quota_view import quota_lines
from .state.base import ROUTING_SECTIONS, AccountGone, Change, Cooldown, StateUnavailable

if TYPE_CHECKING:  # the rest is imported by the commands that use it: `agm --help` must not
    # load aiohttp, rich and the gateway (bench/README.md: 670 -> ~135 ms)
    from rich.console import Console
    from rich.text import Text

    from .account_service import Enrolled

F = TypeVar("F", bound=Callable[..., Any])
_DATA_DIR = "agm.data_dir"


class UserError(click.ClickException):
    """A one-line `error: ...` on stderr, exit code 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "unknown error"


class AgmGroup(click.Group):
    """Turns expected failures (bad settings, upstream, network, disk) into `UserError`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            error = _user_error(exc)
            if error is None:
                raise
            raise error from None


def _user_error(exc: Exception) -> UserError | None:
    """The one line an expected failure shows; None for anything else (click's own exceptions,
    bugs). aiohttp is looked up, not imported: if it was never loaded, it raised nothing."""
    from .accounts.oauth import InvalidGrant
    from .errors import GatewayError

    if isinstance(exc, InvalidGrant):
        return UserError(f"Google rejected the refresh token ({exc.message})")
    if isinstance(exc, GatewayError):
        return UserError(_one_line(exc.message))
    if isinstance(exc, cfg.SettingsError):
        return UserError(_one_line(str(exc)))
    aiohttp = sys.modules.get("aiohttp")
    if isinstance(exc, OSError) or (aiohttp is not None and isinstance(exc, aiohttp.ClientError)):
        return UserError(_one_line(f"{type(exc).__name__}: {exc}"))
    return None


def _remember_data_dir(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[_DATA_DIR] = value


def data_dir_option(f: F) -> F:
    return click.option(
        "--data-dir", type=click.Path(file_okay=False), expose_value=False,
        callback=_remember_data_dir, help="Data directory (default $AGM_DATA_DIR or "
        "~/.antigravity_gateway).",
    )(f)


def _data_dir() -> Path:
    return cfg.resolve_data_dir(click.get_current_context().meta.get(_DATA_DIR), os.environ)


@click.group(cls=AgmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="antigravity-gateway", prog_name="agm")
@data_dir_option
def main() -> None:
    """antigravity-gateway: a local OpenAI/Anthropic/Gemini gateway over Google accounts."""


@main.command()
@click.option("--host", help="Bind address (default from proxy.allow_lan_access).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default proxy.port).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Access log lines as text or as JSON lines.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Processes sharing the port (more than 1 needs [state] backend = redis).")
@click.option("--worker-index", type=int, default=None, hidden=True)
@data_dir_option
def serve(host: str | None, port: int | None, log_format: str, workers: int,
          worker_index: int | None) -> None:
    """Run the gateway in the foreground (SIGINT/SIGTERM stop it gracefully)."""
    data_dir = _data_dir()
    settings = cfg.load_settings(data_dir)
    from .runner import run  # lazily: other commands never load the server
    from .workers import refusal, run_workers

    if (refused := refusal(settings, workers)) is not None:
        raise UserError(refused)
    if workers > 1:
        try:
            raise SystemExit(run_workers(
                settings, data_dir, host=host or settings.bind_host,
                port=port or settings.proxy.port, workers=workers, log_format=log_format))
        except StateUnavailable as exc:
            raise UserError(str(exc)) from None
    run(settings, data_dir, host=host, port=port, log_format=log_format, worker=worker_index)


# --- accounts --------------------------------------------------------------------------------

@main.group(cls=AgmGroup)
@data_dir_option
def accounts() -> None:
    """Manage the upstream Google accounts."""


@accounts.command("add")
@click.option("--refresh-token", "refresh_token", required=True, metavar="T",
              help="The account's OAuth refresh token; '-' reads it from stdin.")
@data_dir_option
def accounts_add(refresh_token: str) -> None:
    """Add (or refresh) a Google account from its OAuth refresh token."""
    if refresh_token == "-":
        refresh_token = sys.stdin.read()
    refresh_token = refresh_token.strip()
    if not refresh_token:
        raise UserError("the refresh token is empty")
    data_dir = _data_dir()
    settings = cfg.load_settings(data_dir)
    store = AccountStore(data_dir)
    import asyncio

    from rich.console import Console

    from .core import network  # loads aiohttp

    console = Console(stderr=True)
    status = console.status("Adding account: token, email, project, quota…")
    with _quiet_logs(), status, network.notify_waits(_print_to(console)):
        account, created = asyncio.run(_enroll(settings, store, refresh_token))
    _share(account)
    click.echo(enrolled_line(account, created))
    if not account.quota.fetched_at:
        click.echo("note: the quota could not be fetched yet; it is retried later", err=True)


def _print_to(console: Console) -> Callable[[str], None]:
    """A line on stderr, beside the spinner on a terminal, plain text elsewhere (CI, pipes)."""
    return lambda line: console.print(line, markup=False, highlight=False)


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Errors reach the user as one `error:` line; the library's warnings would repeat them."""
    import logging

    logger = logging.getLogger("antigravity_gateway")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def enrolled_line(account: Account, created: bool) -> str:
    return (f"{'added' if created else 'updated'} {account.email} (tier: "
            f"{account.tier or 'unknown'}, project: {account.project_id or 'none'})")


async def _enroll(settings: cfg.Settings, store: AccountStore, token: str) -> Enrolled:
    import aiohttp

    from .account_service import AccountService
    from .providers import wire

    async with aiohttp.ClientSession() as session, wire.Client() as upstream:
        service = AccountService(session, settings, store, upstream_client=upstream)
        return await service.enroll_token(token)


@accounts.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (no secrets).")
@data_dir_option
def accounts_list(as_json: bool) -> None:
    """Show accounts with their status and per-model quota."""
    from .accounts.state import load_cooldowns

    data_dir = _data_dir()
    items = AccountStore(data_dir).load_all()
    now = time.time()
    cooling = [c for c in load_cooldowns(data_dir) if c.until > now]
    if as_json:
        click.echo(json.dumps([_public(a, _cooling(a, cooling)) for a in items], indent=2))
    elif not items:
        click.echo("no accounts yet; add one with: agm accounts login "
                   "(or: agm accounts add --refresh-token T, agm accounts import PATH)")
    else:
        from rich.console import Console

        Console(highlight=False).print(_accounts_blocks(items, cooling), end="")


def _cooling(account: Account, cooldowns: list[Cooldown]) -> list[Cooldown]:
    return sorted((c for c in cooldowns if c.email == account.email), key=lambda c: c.model)


def _state(account: Account, cooling: list[Cooldown]) -> str:
    if account.disabled:
        return "disabled"
    if account.needs_verification:
        return "needs_verification"
    return "cooling" if cooling else "active"


def _status(account: Account, cooling: list[Cooldown]) -> str:
    state = _state(account, cooling)
    if state == "disabled" and account.disabled_reason:
        return f"disabled ({account.disabled_reason})"
    if state == "needs_verification":
        return "needs verification" + (f": {account.verification_url}"
                                       if account.verification_url else "")
    if state == "cooling":
        return "\n".join(f"cooling until {_when(c.until)} for "
                         f"{c.model or 'every model'}" + (f" ({c.reason})" if c.reason else "")
                         for c in cooling)
    return state


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _public(account: Account, cooling: list[Cooldown]) -> dict[str, Any]:
    data: dict[str, Any] = msgspec.to_builtins(account)
    for secret in ("refresh_token", "access_token"):
        data.pop(secret, None)
    data["status"] = _state(account, cooling)
    data["cooldowns"] = [
        {"model": c.model, "until": _when(c.until), "reason": c.reason}
        for c in cooling
    ]
    for name, model in account.quota.models.items():
        data["quota"]["models"][name]["percentage"] = model.percentage
    return data


def _accounts_blocks(items: list[Account], cooldowns: list[Cooldown]) -> Text:
    """One block per account: email and status, tier and project, last use, then one line per
    model's quota. Nothing is a column of a table, so it fits 80 columns without breaking an
    email or a date."""
    from rich.text import Text

    styles = {"active": "green", "cooling": "yellow", "needs_verification": "magenta"}
    out = Text()
    now = time.time()
    for a in items:
        cooling = _cooling(a, cooldowns)
        out.append(a.email, style="bold")
        out.append("  ")
        out.append(_status(a, cooling).replace("\n", "\n  "),
                   style=styles.get(_state(a, cooling), "red"))
        out.append(f"\n  tier {a.tier or '-'}, project {a.project_id or '-'}\n  last used "
                   f"{_when(a.last_used) if a.last_used else 'never'}\n")
        for line in quota_lines(a, now).splitlines() if a.quota.models else []:
            out.append(f"    {line}\n")
    return out


def _find(store: AccountStore, email: str) -> Account:
    account = store.get(email)
    if account is None:
        raise UserError(f"no account {email}")
    return account


@accounts.command("remove")
@click.argument("email")
@data_dir_option
def accounts_remove(email: str) -> None:
    """Delete an account's file."""
    store = AccountStore(_data_dir())
    account = store.remove(_find(store, email).id)
    if account is None:
        raise UserError(f"no account {email}")
    _share(AccountGone(email=account.email))
    click.echo(f"removed {account.email}")


@accounts.command("enable")
@click.argument("email")
@data_dir_option
def accounts_enable(email: str) -> None:
    """Put an account back into the pool (also after its verification)."""
    _set_disabled(email, False)


@accounts.command("disable")
@click.argument("email")
@data_dir_option
def accounts_disable(email: str) -> None:
    """Keep an account out of the pool."""
    _set_disabled(email, True)


def _set_disabled(email: str, disabled: bool) -> None:
    store = AccountStore(_data_dir())
    changes: dict[str, Any] = {} if disabled else {"needs_verification": False,
                                                    "verification_url": ""}
    account = store.update(_find(store, email).id, lambda stored: msgspec.structs.replace(
        stored, disabled=disabled, disabled_reason="manual" if disabled else "",
        disabled_at=time.time() if disabled else 0.0, **changes))
    if account is None:
        raise UserError(f"no account {email}")
    _share(account)
    click.echo(f"{'disabled' if disabled else 'enabled'} {account.email}")


def _share(change: Change | Account | cfg.Settings) -> None:
    from .sharing import share  # lazily: it loads the server's modules

    share(cfg.load_settings(_data_dir()), change)


# --- config ----------------------------------------------------------------------------------

@main.group(cls=AgmGroup)
@data_dir_option
def config() -> None:
    """Show and change settings (config.toml)."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of TOML.")
@click.option("--reveal", is_flag=True, help="Show secrets unmasked.")
@data_dir_option
def config_show(as_json: bool, reveal: bool) -> None:
    """Print the effective settings (file + environment overrides)."""
    settings = cfg.load_settings(_data_dir())
    data = cfg.to_builtins(settings if reveal else cfg.masked(settings))
    import tomli_w

    click.echo(json.dumps(data, indent=2) if as_json else tomli_w.dumps(data).rstrip())


@config.command("get")
@click.argument("key")
@click.option("--reveal", is_flag=True, help="Show a secret unmasked.")
@data_dir_option
def config_get(key: str, reveal: bool) -> None:
    """Print one setting (dotted key, e.g. proxy.port); secrets masked unless --reveal."""
    settings = cfg.load_settings(_data_dir())
    click.echo(format_value(cfg.get_value(settings if reveal else cfg.masked(settings), key)))


@config.command("set")
@click.argument("key")
@click.argument("value")
@data_dir_option
def config_set(key: str, value: str) -> None:
    """Change one setting; VALUE is parsed as TOML when it parses, else taken as a string
    (a list may be given as comma-separated text: a.example,b.example). A running gateway
    applies it within 2 s (proxy.port and proxy.allow_lan_access need a restart)."""
    data_dir = _data_dir()
    updated = cfg.set_value(cfg.read_config(data_dir), key, value)
    cfg.save_settings(updated, data_dir)
    if key.split(".", 1)[0] in ROUTING_SECTIONS:
        _share(updated)  # the routing sections of the new settings
    shown = cfg.mask_secret(value) if key in cfg.SECRET_KEYS else format_value(
        cfg.get_value(updated, key))
    click.echo(f"{key} = {shown}")
    _note_env_override(key)


@config.command("unset")
@click.argument("key")
@data_dir_option
def config_unset(key: str) -> None:
    """Put one setting back to its default (a mapping entry: remove it)."""
    data_dir = _data_dir()
    updated = cfg.unset_value(cfg.read_config(data_dir), key)
    cfg.save_settings(updated, data_dir)
    try:
        click.echo(f"{key} = {format_value(cfg.get_value(cfg.masked(updated), key))} (default)")
    except cfg.SettingsError:  # a removed mapping entry has no value any more
        click.echo(f"{key} removed")
    _note_env_override(key)


def _note_env_override(key: str) -> None:
    if key in cfg.RESTART_KEYS:
        click.echo("note: a running gateway listens at the new address only after a restart",
                   err=True)
    for var, overridden in cfg.ENV_OVERRIDES.items():
        if overridden == key and os.environ.get(var):
            click.echo(f"note: {var} is set and overrides {key} at runtime", err=True)


@config.command("path")
@data_dir_option
def config_path() -> None:
    """Print the config file path."""
    click.echo(str(cfg.config_path(_data_dir())))


def format_value(value: Any) -> str:
    """A value as `config set` accepts it back: strings raw, the rest as TOML literals."""
    return value if isinstance(value, str) else _literal(value)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return json.dumps(value)


# --- key -------------------------------------------------------------------------------------

@main.command()
@click.option("--regenerate", is_flag=True, help="Generate and save a new proxy.api_key.")
@data_dir_option
def key(regenerate: bool) -> None:
    """Print (or rotate) the gateway's API key; a running gateway switches within 2 s."""
    data_dir = _data_dir()
    if not regenerate:
        click.echo(cfg.load_settings(data_dir).proxy.api_key)
        return
    updated = cfg.with_value(cfg.read_config(data_dir), "proxy.api_key", cfg.generate_api_key())
    cfg.save_settings(updated, data_dir)
    click.echo(updated.proxy.api_key)
    _note_env_override("proxy.api_key")


# Command groups in their own modules register themselves on `main` when imported.
from . import accounts_cli, cli_monitor, upstreams_cli  # noqa: E402,F401
