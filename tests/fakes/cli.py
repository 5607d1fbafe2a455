"""Command line of the Google simulator: `python -m tests.fakes.cloudcode --port N --accounts 2`.

Runs one FakeGoogle in the foreground with seeded accounts (user<n>@example.com / fake-refresh-<n>)
and prints its addresses; `--latency-ms` adds a delay per SSE event for benchmarks. Deliberately
no scripting from the command line: scripted scenarios belong in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from tests.fakes.cloudcode import FakeGoogle, seed_accounts


def describe(fake: FakeGoogle) -> dict[str, Any]:
    return {
        "base_url": fake.base_url,
        "cloudcode_base_urls": fake.cloudcode_base_urls,
        "token_url": fake.token_url,
        "userinfo_url": fake.userinfo_url,
        "client_id": fake.options.client_id,
        "client_secret": fake.options.client_secret,
        "accounts": {a.email: a.refresh_token for a in fake.accounts.accounts.values()},
    }


def _human(info: dict[str, Any]) -> str:
    lines = [
        f"{key}: {value}" for key, value in info.items() if not isinstance(value, (list, dict))
    ]
    lines.append("cloudcode_base_urls: " + " ".join(info["cloudcode_base_urls"]))
    lines += [
        f"account: {email} refresh_token={token}" for email, token in info["accounts"].items()
    ]
    return "\n".join(lines)


async def _serve_forever(args: argparse.Namespace) -> None:
    fake = FakeGoogle(chunk_delay=args.latency_ms / 1000, text_chunks=args.chunks, max_records=1000)
    seed_accounts(fake, args.accounts)
    await fake.start(args.port)
    info = describe(fake)
    print(json.dumps(info) if args.json else _human(info), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.cloudcode", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--accounts", type=int, default=1)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay before headers and between SSE events"
    )
    parser.add_argument("--chunks", type=int, default=2, help="SSE events per text piece")
    parser.add_argument("--json", action="store_true", help="print the addresses as one JSON line")
    args = parser.parse_args(argv)
    run: Callable[..., Any] = asyncio.run
    with contextlib.suppress(ImportError):
        import uvloop

        run = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):
        run(_serve_forever(args))
