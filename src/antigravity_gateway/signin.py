"""Completing a Google sign-in: the state check, the code exchange and the enrolment.

`SignIn` is shared by both callbacks: `agm accounts login`'s loopback server (`run_loopback`:
127.0.0.1 on a free port, plus lines pasted on stdin, until an answer or the timeout) and the
gateway's `/auth/callback`. A wrong or missing state is refused and the sign-in keeps waiting;
an OAuth error or a failed exchange ends it. Nothing is written before the enrolment succeeds.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from .account_service import AccountService, Enrolled
from .accounts import login, oauth
from .errors import GatewayError


class SignInError(Exception):
    """The sign-in ended without an account; the message is one line for the user."""


@dataclass
class SignIn:
    """One authorization awaiting its answer; `done` resolves once, with the account or error."""

    service: AccountService
    auth: login.Authorization
    done: asyncio.Future[Enrolled] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    _claimed: bool = False

    async def complete(self, answer: login.Answer, *, state_required: bool = True
                       ) -> tuple[int, str]:
        """Handle one answer; (HTTP status, HTML page) for the browser that brought it."""
        if self._claimed:
            return 409, login.failed_page("This sign-in is already finished.")
        if not login.state_matches(answer, self.auth.state, required=state_required):
            return 400, login.failed_page("The state does not match this sign-in; "
                                          "start again from the printed link.")
        if answer.error:
            return self._fail(f"Google refused the sign-in: {answer.error}")
        if not answer.code:
            return 400, login.failed_page("The answer carries no authorization code.")
        self._claimed = True
        try:
            grant = await oauth.exchange_code(
                self.service.session, self.service.upstream, answer.code,
                verifier=self.auth.verifier, redirect_uri=self.auth.redirect_uri)
            enrolled = await self.service.enroll_grant(grant)
        except GatewayError as exc:
            return self._fail(f"the sign-in failed: {' '.join(exc.message.split())}")
        if not self.done.done():
            self.done.set_result(enrolled)
        return 200, login.signed_in_page(enrolled.account.email)

    def _fail(self, reason: str) -> tuple[int, str]:
        self._claimed = True
        if not self.done.done():
            self.done.set_exception(SignInError(reason))
        return 400, login.failed_page(reason[:1].upper() + reason[1:] + ".")


def html_response(status: int, page: str) -> web.Response:
    return web.Response(status=status, text=page, content_type="text/html",
                        headers={"Cache-Control": "no-store"})


@dataclass(frozen=True)
class LoopbackOptions:
    """How `run_loopback` runs: time limit, where URL and notes go, whether stdin is read."""

    timeout: float
    announce: Callable[[str], None]  # gets the authorization URL
    note: Callable[[str], None]  # one line about a refused pasted answer
    read_stdin: bool = True


async def run_loopback(service: AccountService, options: LoopbackOptions) -> Enrolled:
    """Serve the callback on 127.0.0.1, read pasted answers, wait; the server stops on return."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    redirect_uri = f"http://127.0.0.1:{sock.getsockname()[1]}{login.CALLBACK_PATH}"
    flow = SignIn(service, login.begin(service.upstream, redirect_uri))

    async def callback(request: web.Request) -> web.Response:
        return html_response(*await flow.complete(login.read_callback(request.query)))

    app = web.Application()
    app.router.add_get(login.CALLBACK_PATH, callback)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        options.announce(flow.auth.url)
        if options.read_stdin:
            _read_pasted(flow, options.note)
        return await asyncio.wait_for(asyncio.shield(flow.done), options.timeout)
    except TimeoutError:
        raise SignInError(f"no sign-in within {options.timeout:g} seconds") from None
    finally:
        await runner.cleanup()
        sock.close()


def _read_pasted(flow: SignIn, note: Callable[[str], None]) -> None:
    """A daemon thread feeding stdin lines to the flow (it must not keep the process alive)."""
    loop = asyncio.get_running_loop()

    async def paste(line: str) -> None:
        status, _ = await flow.complete(login.read_pasted(line), state_required=False)
        if status == 400 and not flow.done.done():
            note("that is not the answer to this sign-in (state or code missing); "
                 "paste the full redirected URL")

    def reader() -> None:
        for line in sys.stdin:
            if line.strip():
                asyncio.run_coroutine_threadsafe(paste(line), loop)

    threading.Thread(target=reader, name="agm-login-stdin", daemon=True).start()
