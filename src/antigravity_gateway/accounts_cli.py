"""`agm accounts login | import | export | refresh`: thin commands over `AccountService`.

Registered on `cli.accounts` when `cli` loads. Output as the README shows it: login prints the
authorization URL on a line of its own and then `added|updated EMAIL (...)`; import prints one
`added|updated EMAIL` / `failed <entry>: <reason>` line per entry; refresh one line per account.
Any failure: exit 1. Secrets only reach stdout through `export`, which warns on a terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
import webbrowser
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from . import settings as cfg
from .accounts.store import Account, AccountStore
from .cli import (
    UserError,
    _data_dir,
    _find,
    _quiet_logs,
    accounts,
    data_dir_option,
    enrolled_line,
)
from .errors import GatewayError

if TYPE_CHECKING:  # the rest is imported by the commands that use it (agm start-up time)
    from .account_service import AccountService, ImportOutcome

T = TypeVar("T")
REFRESH_CONCURRENCY = 5  # as Antigravity Tools does (docs/upstream.md §10.6)


def _with_service(job: Callable[[AccountService], Awaitable[T]]) -> T:
    """Run `job` with a service on this data dir (stale temp files swept first)."""
    data_dir = _data_dir()
    settings = cfg.load_settings(data_dir)
    store = AccountStore(data_dir)
    store.sweep()
    import asyncio

    import aiohttp

    from .account_service import AccountService
    from .providers import wire

    async def run() -> T:
        async with aiohttp.ClientSession(trust_env=False) as session, wire.Client() as upstream:
            return await job(AccountService(session, settings, store, upstream_client=upstream))

    with _quiet_logs():
        return asyncio.run(run())


# --- login -----------------------------------------------------------------------------------

@accounts.command("login")
@click.option("--no-browser", is_flag=True, help="Only print the sign-in address.")
@click.option("--timeout", type=click.FloatRange(min=1), default=300.0, show_default=True,
              metavar="S", help="Give up after S seconds.")
@data_dir_option
def accounts_login(no_browser: bool, timeout: float) -> None:
    """Sign a Google account in with a browser (OAuth, PKCE) and add it."""
    from .signin import LoopbackOptions, SignInError, run_loopback

    def announce(url: str) -> None:
        click.echo("Open this address, sign in with Google and allow access (on another "
                   "machine: paste the address you are sent to here):", err=True)
        click.echo(url)
        if not no_browser:
            _open_browser(url)

    def note(line: str) -> None:
        click.echo(f"note: {line}", err=True)

    options = LoopbackOptions(timeout=timeout, announce=announce, note=note,
                              read_stdin=sys.stdin is not None)
    try:
        account, created = _with_service(lambda service: run_loopback(service, options))
    except SignInError as exc:
        raise UserError(str(exc)) from None
    click.echo(enrolled_line(account, created))


def _open_browser(url: str) -> None:
    """A graphical browser when there is one (never a console browser taking the terminal)."""
    if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return
    with contextlib.suppress(webbrowser.Error):
        webbrowser.open(url, new=2)


# --- import / export -------------------------------------------------------------------------

@accounts.command("import")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--from-antigravity", is_flag=True,
              help="Also read Antigravity Tools' and the Antigravity IDE's default locations.")
@data_dir_option
def accounts_import(paths: tuple[Path, ...], from_antigravity: bool) -> None:
    """Add or update accounts from files or Antigravity's data.

    Formats (found from the content): an Antigravity Tools data dir or account file, an
    export JSON or list, the Antigravity IDE's state.vscdb, one refresh token per line.
    """
    from .accounts import importers

    sources = list(paths) + (_antigravity_sources() if from_antigravity else [])
    if not sources:
        raise UserError("nothing to import: give PATH... or --from-antigravity")
    entries: list[importers.Entry] = []
    failed = 0
    for source in sources:
        try:
            entries += importers.read_path(source)
        except (importers.UnknownFormat, OSError) as exc:
            click.echo(f"failed {source}: {_reason(exc)}")
            failed += 1
    outcomes: list[ImportOutcome] = (
        _with_service(lambda service: service.import_entries(entries)) if entries else [])
    for outcome in outcomes:
        click.echo(outcome.line())
    if failed or any(o.status == "failed" for o in outcomes):
        sys.exit(1)


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return " ".join(str(exc).split())


def _antigravity_sources() -> list[Path]:
    from .accounts import importers

    places = importers.antigravity_locations(Path.home(), os.environ, platform.system())
    found = [place for place in places if place.exists()]
    for place in found:
        kind = "Antigravity IDE state" if place.name == "state.vscdb" else "Antigravity Tools data"
        click.echo(f"found {kind} at {place}", err=True)
    if not found:
        raise UserError("no Antigravity Tools or Antigravity IDE data found (looked in "
                        + ", ".join(str(p) for p in places) + ")")
    return found


@accounts.command("export")
@click.argument("emails", nargs=-1)
@data_dir_option
def accounts_export(emails: tuple[str, ...]) -> None:
    """Print accounts with their refresh tokens as JSON (private!)."""
    from .accounts import importers

    store = AccountStore(_data_dir())
    chosen = [_find(store, email) for email in emails] or store.load_all()
    if sys.stdout.isatty():
        click.echo("warning: this output holds refresh tokens (full access to the accounts); "
                   "redirect it to a private file", err=True)
    click.echo(json.dumps(importers.export_document(chosen), indent=2))


# --- refresh ---------------------------------------------------------------------------------

@accounts.command("refresh")
@click.argument("emails", nargs=-1)
@data_dir_option
def accounts_refresh(emails: tuple[str, ...]) -> None:
    """Refresh tokens and quota now (all enabled accounts by default)."""
    store = AccountStore(_data_dir())
    chosen = [_find(store, email) for email in emails] or [
        a for a in store.load_all() if not a.disabled]
    if not chosen:
        click.echo("no enabled accounts to refresh")
        return
    lines = _with_service(lambda service: _refresh_all(service, chosen))
    for line in lines:
        click.echo(line)
    if any(line.startswith("failed ") for line in lines):
        sys.exit(1)


async def _refresh_all(service: AccountService, chosen: list[Account]) -> list[str]:
    import asyncio

    from rich.console import Console
    from rich.progress import Progress

    from .account_service import failure_reason

    gate = asyncio.Semaphore(REFRESH_CONCURRENCY)
    with Progress(console=Console(stderr=True), transient=True,
                  disable=len(chosen) < 2) as progress:
        task = progress.add_task("Refreshing accounts", total=len(chosen))

        async def one(account: Account) -> str:
            async with gate:
                try:
                    fresh = await service.refresh_now(account)
                except GatewayError as exc:
                    return f"failed {account.email}: {failure_reason(exc)}"
                finally:
                    progress.advance(task)
            models = fresh.quota.models.values()
            lowest = min((m.percentage for m in models), default=None)
            return (f"refreshed {fresh.email} ({len(models)} models"
                    + (f", lowest {lowest}% left)" if lowest is not None else ")"))

        return list(await asyncio.gather(*(one(a) for a in chosen)))
