"""The aiohttp application of the simulator: routing, recording, dispatch and writing `Outcome`s.

One app serves every fake host as a path prefix (`/sandbox`, `/daily`, `/prod`, or none = prod),
the OAuth endpoints, and drops the connection for unknown prefixes (e.g. `/dead`). Decisions are
taken synchronously under `FakeGoogle.lock`; only the writing is async. Deliberately no TLS/HTTP2.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web
from multidict import CIMultiDict

from tests.fakes import oauth
from tests.fakes.accounts import Account
from tests.fakes.calls import Call, Record
from tests.fakes.control import CONTROL_METHODS, operation
from tests.fakes.errors import (
    Disconnect,
    Fault,
    FaultError,
    google_error,
    invalid_argument,
    unauthenticated,
)
from tests.fakes.generate import count, generate
from tests.fakes.scripts import GENERATE_METHODS
from tests.fakes.wire import JSON_TYPE, SSE_TYPE, Outcome, answer_outcome

if TYPE_CHECKING:
    from tests.fakes.cloudcode import FakeGoogle

FAKE = web.AppKey("fake", object)
METHODS: dict[str, Callable[[Call], Outcome]] = {
    **CONTROL_METHODS,
    "generateContent": generate,
    "streamGenerateContent": generate,
    "countTokens": count,
    "operation": operation,
}


def build_app(fake: FakeGoogle) -> web.Application:
    app = web.Application(client_max_size=256 * 1024 * 1024)
    app[FAKE] = fake
    app.router.add_get("/o/oauth2/v2/auth", _authorize)
    app.router.add_post("/token", _token)
    app.router.add_get("/oauth2/{version:v[12]}/userinfo", _userinfo)
    app.router.add_route("*", "/v1internal:{method}", _cloudcode)
    app.router.add_route("*", "/{host}/v1internal:{method}", _cloudcode)
    app.router.add_get("/v1internal/{operation:.+}", _cloudcode)
    app.router.add_get("/{host}/v1internal/{operation:.+}", _cloudcode)
    return app


def _new_record(request: web.Request, host: str, method: str, raw: bytes, body: Any) -> Record:
    fake: FakeGoogle = request.app[FAKE]  # type: ignore[assignment]
    return Record(
        host=host,
        method=method,
        http_method=request.method,
        path=request.path,
        query=dict(request.query),
        headers=CIMultiDict(request.headers),
        body=body,
        raw=raw,
        time=fake.now(),
    )


async def _authorize(request: web.Request) -> web.StreamResponse:
    fake: FakeGoogle = request.app[FAKE]  # type: ignore[assignment]
    record = _new_record(request, "oauth", "authorize", b"", dict(request.query))
    with fake.lock:
        outcome = oauth.authorize(fake, request.query, record)
        fake.remember(record, outcome)
    return await send(request, outcome)


async def _token(request: web.Request) -> web.StreamResponse:
    fake: FakeGoogle = request.app[FAKE]  # type: ignore[assignment]
    raw = await request.read()
    if fake.options.token_delay:
        await asyncio.sleep(fake.options.token_delay)
    form = dict(urllib.parse.parse_qsl(raw.decode(errors="replace")))
    record = _new_record(request, "oauth", "token", raw, form)
    with fake.lock:
        outcome = oauth.token(fake, form, request.headers, record)
        fake.remember(record, outcome)
    return await send(request, outcome)


async def _userinfo(request: web.Request) -> web.StreamResponse:
    fake: FakeGoogle = request.app[FAKE]  # type: ignore[assignment]
    record = _new_record(request, "oauth", "userinfo", b"", None)
    with fake.lock:
        outcome = oauth.userinfo(fake, request.headers, record)
        fake.remember(record, outcome)
    return await send(request, outcome)


async def _cloudcode(request: web.Request) -> web.StreamResponse:
    fake: FakeGoogle = request.app[FAKE]  # type: ignore[assignment]
    host = request.match_info.get("host", "prod")
    method = request.match_info.get("method", "operation")
    raw = await request.read()
    try:
        body: Any = msgspec.json.decode(raw) if raw.strip() else {}
    except msgspec.DecodeError:
        body = None
    record = _new_record(request, host, method, raw, body)
    with fake.lock:
        outcome = _decide(fake, record, request.match_info.get("operation", ""))
        fake.remember(record, outcome)
    try:
        response = await send(request, outcome)
    except asyncio.CancelledError:  # handler cancellation: the peer hung up mid-answer
        record.peer_closed_at = time.monotonic()
        raise
    if outcome.events is not None and request.transport is None:
        record.peer_closed_at = record.peer_closed_at or time.monotonic()
    return response


def _decide(fake: FakeGoogle, record: Record, operation_name: str) -> Outcome:
    """Everything up to the bytes: host faults, auth, body shape, method handler."""
    host, method = record.host, record.method
    content_type = SSE_TYPE if method == "streamGenerateContent" else JSON_TYPE
    if host not in fake.options.hosts:
        return answer_outcome(Disconnect())
    trace_id = fake.ids.trace_id()
    try:
        injected = fake.host_faults.take(host, method)
        if injected is not None:
            return answer_outcome(injected, content_type, trace_id)
        account = _authenticate(fake, record)
        if not isinstance(record.body, dict):
            raise FaultError(invalid_argument("Invalid JSON payload received. Unexpected token."))
        handler = METHODS.get(method)
        if handler is None:
            raise FaultError(google_error(404, "NOT_FOUND", "Method not found."))
        scripted = (
            None
            if method in GENERATE_METHODS
            else fake.scripts.pop(account.email, host, None, method)
        )
        if isinstance(
            scripted, (Fault, Disconnect)
        ):  # generate methods pop their script after validation
            return answer_outcome(scripted, content_type, trace_id)
        call = Call(
            fake, record, host, method, record.body, account, trace_id, record.query, operation_name
        )
        return handler(call)
    except FaultError as error:
        return answer_outcome(error.fault, content_type, trace_id)


def _authenticate(fake: FakeGoogle, record: Record) -> Account:
    scheme, _, access = record.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not access:
        raise FaultError(unauthenticated("CREDENTIALS_MISSING"))
    account = fake.accounts.resolve(access, fake.now())
    if account is None:
        expired = fake.accounts.known(access)
        raise FaultError(
            unauthenticated("ACCESS_TOKEN_EXPIRED" if expired else "ACCESS_TOKEN_TYPE_UNSUPPORTED")
        )
    record.email = account.email
    return account


def _abort(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.abort()


async def send(request: web.Request, outcome: Outcome) -> web.StreamResponse:
    """Write `outcome`: a plain response, an SSE stream, a broken stream or a dropped connection."""
    if outcome.initial_delay:
        await asyncio.sleep(outcome.initial_delay)
    if outcome.disconnect:
        _abort(request)
        return web.Response()
    if outcome.events is None and outcome.break_after is None:
        return web.Response(status=outcome.status, body=outcome.body, headers=outcome.headers)
    response = web.StreamResponse(status=outcome.status, headers=outcome.headers)
    events = outcome.events if outcome.events is not None else [outcome.body]
    if outcome.events is None:
        response.content_length = len(outcome.body)
    try:
        await response.prepare(request)
        for index, frame in enumerate(events):
            if index == outcome.break_after:
                break
            if index and outcome.chunk_delay:
                await asyncio.sleep(outcome.chunk_delay)
            await response.write(frame)
        if outcome.break_after is not None:
            _abort(request)
        else:
            await response.write_eof()
    except ConnectionError:  # the client went away mid-stream
        _abort(request)
    return response
