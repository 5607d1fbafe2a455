"""`agm serve`: bind, print the banner, run until SIGINT/SIGTERM, then stop gracefully.

On a signal the listener closes at once and in-flight requests get up to `SHUTDOWN_SECONDS` to
finish. A port already in use, a data directory another server holds, or a state backend that
cannot be reached, is a one-line error and exit code 1, never a traceback. `serve` sets the
connection limits (server/connections.py): keep-alive, request heads, connection count.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import logging
import resource
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from aiohttp import web

from . import datadir
from .app import build_app
from .log_writer import Line, LineFormatter, LogWriter, Sink
from .monitor.access import LOGGER as ACCESS_LOGGER
from .server.access_log import RequestIdFilter, tag
from .server.connections import GuardedRunner
from .server.context import GATEWAY
from .server.monitoring import MONITOR
from .settings import Settings
from .state.base import StateUnavailable

log = logging.getLogger("antigravity_gateway")

SHUTDOWN_SECONDS = 30.0
KEEPALIVE_SECONDS = 75.0  # idle keep-alive connections (and unfinished headers) close after this
FD_RESERVE = 256  # open files kept free for upstream connections, account files, the log
SERVER_LIMITS = {  # aiohttp's request-head limits: rejected while reading, before any buffering
    "max_line_size": 8190,
    "max_field_size": 16384,
    "max_headers": 100,
}


class BindError(Exception):
    """The listen address is unavailable; the message is meant for the user."""


def run(
    settings: Settings,
    data_dir: Path,
    *,
    host: str | None = None,
    port: int | None = None,
    log_format: str = "text",
    worker: int | None = None,
) -> None:
    """`worker`: this process's index among `--workers N` (only worker 0 prints the banner;
    every worker binds with SO_REUSEPORT)."""
    writer, access_out = configure_logging(log_format)
    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(
                serve(
                    settings,
                    data_dir,
                    host=host or settings.bind_host,
                    port=port or settings.proxy.port,
                    json_access_log=log_format == "json",
                    access_out=access_out,
                    worker=worker,
                )
            )
    except (BindError, StateUnavailable, datadir.DataDirBusy) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        writer.stop()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency except on Windows
        return None
    return uvloop.new_event_loop


def configure_logging(log_format: str) -> tuple[LogWriter, Callable[[str], None]]:
    """Text lines on stderr, written by a thread (log_writer.py); with `json`, the access log
    is bare JSON lines (for log shippers). Returns the writer, and where the monitor puts its
    access lines."""
    writer = LogWriter()
    lines = Sink(LineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    text = writer.handler(lines)
    text.addFilter(RequestIdFilter())  # `[id]` on every line logged during a request
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    root.addHandler(text)
    # the format uses none of these: not collecting them per line saves ~2 of ~8 us per access
    # line (the logging HOWTO's "Optimization" section)
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.getLogger("mcp").setLevel(logging.WARNING)  # the MCP SDK logs every session at INFO
    if log_format == "json":
        access = logging.getLogger(ACCESS_LOGGER)
        lines = Sink(LineFormatter("%(message)s"))
        access.addHandler(writer.handler(lines))
        access.propagate = False
    return writer, _access_lines(writer, lines)


def _access_lines(writer: LogWriter, sink: Sink) -> Callable[[str], None]:
    """Access lines queued as `Line`s, not through `logging` (no `LogRecord`, handler lock or
    filter: ~6 us less CPU a request, bench/README.md), formatted as the handler would."""

    def out(message: str) -> None:
        writer.put(sink, Line(time.time(), ACCESS_LOGGER, tag(message)))

    return out


async def serve(
    settings: Settings,
    data_dir: Path,
    *,
    host: str,
    port: int,
    json_access_log: bool = False,
    access_out: Callable[[str], None] | None = None,
    worker: int | None = None,
) -> None:
    with _own(settings, data_dir):
        app = build_app(settings, data_dir)
        app[MONITOR].json_access_log = json_access_log
        if access_out is not None:
            app[MONITOR].access_out = access_out
        # handler_cancellation: a client's hang-up cancels its handler at once
        runner = GuardedRunner(
            app, max_connections=connection_cap(settings), shutdown_timeout=SHUTDOWN_SECONDS,
            access_log=None, handler_cancellation=True, keepalive_timeout=KEEPALIVE_SECONDS,
            **SERVER_LIMITS)
        try:
            await runner.setup()
        except StateUnavailable:
            await app.cleanup()  # the upstream session and whatever else started
            raise
        try:
            await _bind(runner, host, port, reuse_port=worker is not None)
            gc.freeze()  # start-up's ~110k objects leave the collector's walks: p99 -0.2 ms
            if not worker:
                print(banner(app, host, port), flush=True)
            await _until_signal()
            log.info("stopping: finishing in-flight requests (up to %.0f s)", SHUTDOWN_SECONDS)
        finally:
            await runner.cleanup()
    log.info("stopped")


@contextlib.contextmanager
def _own(settings: Settings, data_dir: Path) -> Iterator[None]:
    """The data directory for this server alone (unless the state is shared), tidied."""
    if settings.state.backend != "memory":
        datadir.remove_stale_temp_files(data_dir, older_than=60.0)
        yield
        return
    with datadir.exclusive(data_dir):
        datadir.remove_stale_temp_files(data_dir)
        yield


def connection_cap(settings: Settings) -> int:
    """proxy.max_connections, kept below the open-file limit (raised to its maximum first)."""
    soft = raise_open_file_limit()
    return max(1, min(settings.proxy.max_connections, soft - FD_RESERVE))


def raise_open_file_limit() -> int:
    """Raise RLIMIT_NOFILE's soft limit to the hard one (1,024 is common); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-file limit above %d: %s", soft, exc)
    return soft


async def _bind(runner: web.AppRunner, host: str, port: int, *, reuse_port: bool) -> None:
    try:
        await web.TCPSite(runner, host, port, backlog=1024, reuse_port=reuse_port or None).start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BindError(
                f"port {port} on {host} is already in use (set proxy.port or --port)"
            ) from None
        raise BindError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


async def _until_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def banner(app: web.Application, host: str, port: int) -> str:
    gateway = app[GATEWAY]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    base = f"http://{shown}:{port}"
    usable = len(gateway.pool.usable())
    lines = [
        f"antigravity-gateway listening on http://{host}:{port}",
        f"  auth mode: {gateway.settings.effective_auth_mode}",
        f"  usable accounts: {usable}"
        + ("  (add one: agm accounts add --refresh-token ...)" if usable == 0 else ""),
        f"  OpenAI SDK / Codex CLI:  base_url = {base}/v1",
        f"  Anthropic SDK / Claude Code:  ANTHROPIC_BASE_URL = {base}",
        f"  Gemini SDK / Gemini CLI:  base_url = {base}   (GOOGLE_GEMINI_BASE_URL)",
        "  API key: `agm key` prints it",
    ]
    return "\n".join(lines)
