"""A scriptable simulator of Google's side: Cloud Code `v1internal` + OAuth, on loopback.

One aiohttp app on one port serves the hosts `/sandbox`, `/daily`, `/prod` (no prefix = prod),
`GET /o/oauth2/v2/auth`, `POST /token` and `GET /oauth2/v{1,2}/userinfo`; unknown prefixes
(e.g. `/dead`) drop the connection. It follows docs/upstream.md §9; it never
talks to the network and keeps no files. Without a script, generation answers "Hello from
<model>." in >= 2 text chunks (a minimal JSON object when a JSON schema is requested, a thought
first when thoughts are).

    from tests.fakes import *

    async with run_fake() as fake:           # sync tests: `with FakeGoogleThread() as fake:`
        fake.add_account("a@example.com", refresh_token="rt-a", limits={"gemini-3-flash": 2})
        fake.script(                         # FIFO; each argument is one answer
            [thinking("Let me look."), tool_call("ls", {"dir": "."})],  # list = one reply
            Reply(text("partial", chunks=3), BrokenStream(after_chunks=1)),  # dies mid-stream
            Reply(text("slow"), delay(between_chunks=0.2), finish("MAX_TOKENS"), usage(prompt=9)),
            quota_exhausted("gemini-3-flash"),   # canned errors from tests.fakes.errors
            Fault(418, {"error": "custom"}, {"Retry-After": "1"}),
        )
        fake.script_for(text("only for a, on daily"), email="a@example.com", host="daily")
        fake.fail_host("sandbox", capacity_exhausted(), times=1)  # before auth and validation
        fake.take_down("prod")                                   # drops connections until heal()
        # point the gateway at fake.cloudcode_base_urls, fake.token_url, fake.userinfo_url,
        # fake.options.client_id / client_secret
        [record] = fake.calls("streamGenerateContent", email="a@example.com", host="daily")
        assert record.body["model"] == "gemini-3-flash" and record.headers["authorization"]

Standalone: `python -m tests.fakes.cloudcode --port N --accounts 2 [--latency-ms 5] [--json]`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes.accounts import Account, AccountBook
from tests.fakes.calls import Record
from tests.fakes.catalogue import ModelSpec, default_catalogue
from tests.fakes.errors import Disconnect, Fault
from tests.fakes.ids import Ids
from tests.fakes.oauth import Consent
from tests.fakes.scripts import (
    GENERATE_METHODS,
    HostFault,
    HostFaults,
    Reply,
    Scope,
    Scriptable,
    ScriptBook,
    to_answer,
)
from tests.fakes.server import build_app
from tests.fakes.signatures import SignatureBook
from tests.fakes.wire import Outcome

ANTIGRAVITY_CLIENT_ID = "1071006060591-tmhssin2h21lcre235vtolojh4g403ep.apps.googleusercontent.com"
FAKE_CLIENT_SECRET = "GOCSPX-fake-simulator-secret"
HOSTS = ("sandbox", "daily", "prod")


@dataclass
class FakeOptions:
    client_id: str = ANTIGRAVITY_CLIENT_ID
    client_secret: str | None = FAKE_CLIENT_SECRET  # None: any secret is accepted for client_id
    token_lifetime: int = 3599
    seed: int = 0
    text_chunks: int = 2  # stream events per text/thought piece
    chunk_delay: float = 0.0  # seconds before headers and between events (benchmark latency)
    gemini_call_ids: bool = False  # give Gemini function calls an id (the real service may omit it)
    check_project: bool = True  # a foreign `project` in an envelope -> 403
    bind_signatures_to_account: bool = False
    max_records: int | None = None  # keep only the last N records
    clock: Callable[[], float] = time.time
    hosts: tuple[str, ...] = HOSTS
    token_delay: float = 0.0  # seconds the token endpoint waits before answering (race tests)


@dataclass
class _Server:
    runner: web.AppRunner
    port: int


class FakeGoogle:
    """All simulator state. Public methods are thread-safe (one re-entrant lock)."""

    def __init__(self, **options: Any) -> None:
        self.options = FakeOptions(**options)
        self.lock = threading.RLock()
        self.ids = Ids(self.options.seed)
        self.accounts = AccountBook(self.ids)
        self.models: dict[str, ModelSpec] = default_catalogue()
        self.scripts = ScriptBook()
        self.host_faults = HostFaults()
        self.signatures = SignatureBook(self.ids, self.options.bind_signatures_to_account)
        self._received: deque[Record] = deque(maxlen=self.options.max_records)
        self.consent = Consent()
        self._server: _Server | None = None

    # ---- addresses ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake is not serving; use run_fake() or FakeGoogleThread")
        return f"http://127.0.0.1:{self._server.port}"

    def url(self, host: str) -> str:
        return f"{self.base_url}/{host}"

    @property
    def cloudcode_base_urls(self) -> list[str]:
        """sandbox, daily, prod: the gateway's fallback order."""
        return [self.url(host) for host in self.options.hosts]

    @property
    def dead_base_url(self) -> str:
        """A host prefix that always drops the connection without answering."""
        return self.url("dead")

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/token"

    @property
    def auth_url(self) -> str:
        """The authorization (consent) endpoint, like accounts.google.com/o/oauth2/v2/auth."""
        return f"{self.base_url}/o/oauth2/v2/auth"

    @property
    def userinfo_url(self) -> str:
        return f"{self.base_url}/oauth2/v2/userinfo"

    def now(self) -> float:
        return self.options.clock()

    # ---- accounts and tokens -----------------------------------------------------------------

    def add_account(self, email: str, **fields: Any) -> Account:
        """Keyword fields of `Account`: refresh_token, project, tier, onboarded, onboard_polls,
        validation_required, project_form, paid_tier, credits, quota, limits, name ..."""
        with self.lock:
            return self.accounts.add(Account(email=email, **fields))

    def add_model(self, spec: ModelSpec) -> None:
        """Extend (or override an entry of) the catalogue served by fetchAvailableModels."""
        with self.lock:
            self.models[spec.id] = spec

    def account(self, email: str) -> Account:
        with self.lock:
            return self.accounts.get(email)

    def issue_token(self, email: str, lifetime: float | None = None) -> str:
        """An access token for `email` without the OAuth round trip."""
        with self.lock:
            return self.accounts.issue(
                email,
                self.now() + (lifetime if lifetime is not None else self.options.token_lifetime),
            )

    def expire_access_tokens(self, email: str) -> None:
        with self.lock:
            self.accounts.expire(email)

    def revoke(self, refresh_token: str) -> None:
        """The refresh token now gets invalid_grant; the account's access tokens stop working."""
        with self.lock:
            self.accounts.revoke(refresh_token)

    def authorization_code(self, email: str, **grant: str) -> str:
        """A one-shot code for the authorization_code grant (login tests); `grant` may bind it
        to a redirect_uri and a PKCE challenge (+ challenge_method)."""
        with self.lock:
            return self.accounts.new_code(email, **grant)

    def sign_in_as(self, email: str | None) -> None:
        """Who signs in at the consent page (None: the first account)."""
        with self.lock:
            self.consent = Consent(email=email)

    def refuse_sign_in(self, error: str = "access_denied") -> None:
        """The consent page redirects back with `error=...` until `sign_in_as` is called."""
        with self.lock:
            self.consent = Consent(error=error)

    def set_quota(self, email: str, model: str, **values: Any) -> None:
        """Adjust a live counter: fraction=, limit=, used=, reset_in= (seconds from now)."""
        with self.lock:
            quota = self.accounts.get(email).quota_for(model, self.now())
            if "reset_in" in values:
                quota.reset_at = self.now() + values.pop("reset_in")
            for name, value in values.items():
                setattr(quota, name, value)

    # ---- scripting ---------------------------------------------------------------------------

    def script(self, *replies: Scriptable) -> None:
        """Queue answers for any generate call (FIFO); each argument is one answer."""
        self.script_for(*replies)

    def script_for(
        self,
        *replies: Scriptable,
        email: str | None = None,
        host: str | None = None,
        model: str | None = None,
        method: str | None = None,
    ) -> None:
        """Queue answers for matching calls only. With `method` set to a non-generate method
        (e.g. "loadCodeAssist") only `Fault`/`Disconnect` answers are allowed; `Fault(200, body)`
        serves a custom successful body."""
        answers = [to_answer(reply) for reply in replies]
        if method not in (None, *GENERATE_METHODS) and any(isinstance(a, Reply) for a in answers):
            raise ValueError(f"{method} can only be scripted with Fault or Disconnect answers")
        with self.lock:
            self.scripts.push(Scope(email, host, model, method), answers)

    def pending(self) -> int:
        """How many scripted answers are still queued."""
        with self.lock:
            return self.scripts.pending()

    def fail_host(
        self,
        host: str,
        answer: Fault | Disconnect,
        times: int | None = 1,
        method: str | None = None,
    ) -> None:
        """The next `times` calls to `host` (None: all, until heal) get `answer`, before auth."""
        with self.lock:
            self.host_faults.add(host, HostFault(answer, times, method))

    def take_down(self, host: str) -> None:
        self.fail_host(host, Disconnect(), times=None)

    def heal(self, host: str | None = None) -> None:
        with self.lock:
            self.host_faults.heal(host)

    # ---- recording ---------------------------------------------------------------------------

    def remember(self, record: Record, outcome: Outcome) -> None:
        record.status = None if outcome.disconnect else outcome.status
        with self.lock:
            self._received.append(record)

    @property
    def received(self) -> list[Record]:
        with self.lock:
            return list(self._received)

    def calls(
        self, method: str | None = None, *, host: str | None = None, email: str | None = None
    ) -> list[Record]:
        wanted = {"method": method, "host": host, "email": email}
        return [
            r
            for r in self.received
            if all(v is None or getattr(r, k) == v for k, v in wanted.items())
        ]

    def clear_received(self) -> None:
        with self.lock:
            self._received.clear()

    # ---- serving -----------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        return build_app(self)

    async def start(self, port: int = 0) -> None:
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        await web.SockSite(runner, sock, backlog=1024).start()
        self._server = _Server(runner, sock.getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.runner.cleanup()
            self._server = None


@contextlib.asynccontextmanager
async def run_fake(port: int = 0, **options: Any) -> AsyncIterator[FakeGoogle]:
    """Serve a new FakeGoogle in the current event loop for the duration of the block."""
    fake = FakeGoogle(**options)
    await fake.start(port)
    try:
        yield fake
    finally:
        await fake.stop()


class FakeGoogleThread:
    """Serves a FakeGoogle from a background thread with its own loop, for synchronous tests."""

    def __init__(self, port: int = 0, **options: Any) -> None:
        self.fake = FakeGoogle(**options)
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="fake-google", daemon=True
        )

    def start(self) -> FakeGoogle:
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.fake.start(self._port), self._loop).result(10)
        except BaseException:
            self._stop_loop()
            raise
        return self.fake

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self._loop).result(10)
        self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def seed_accounts(fake: FakeGoogle, count: int) -> list[Account]:
    """user1@example.com ... with refresh tokens fake-refresh-1 ..."""
    return [
        fake.add_account(f"user{n}@example.com", refresh_token=f"fake-refresh-{n}")
        for n in range(1, count + 1)
    ]


if __name__ == "__main__":
    from tests.fakes.cli import main

    main()
