"""Admin API for adding accounts: Google sign-in on the gateway's port, import and export.

`POST /api/oauth/start` -> `{"url","state"}`; Google then sends the browser to this server's
`/auth/callback`, which needs no key (the state is the credential: single use, 10 minutes) and
puts the account into the running pool at once. The `/api/` routes need the admin auth rule.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from aiohttp import web

from ..accounts import importers, login
from ..signin import SignIn, html_response
from .context import gateway_of
from .dialects import json_response

CALLBACK_PATH = "/auth/callback"
PENDING = web.AppKey("pending_sign_ins", login.Pending)


def error(status: int, message: str) -> web.Response:
    return json_response({"error": message}, status=status)


async def start_sign_in(request: web.Request) -> web.Response:
    redirect_uri = f"{request.scheme}://{request.host}{CALLBACK_PATH}"
    auth = request.app[PENDING].start(gateway_of(request).settings.upstream, redirect_uri)
    return json_response({"url": auth.url, "state": auth.state})


async def sign_in_callback(request: web.Request) -> web.Response:
    answer = login.read_callback(request.query)
    auth = request.app[PENDING].take(answer.state or "")
    if auth is None:
        return html_response(400, login.failed_page(
            "This sign-in is unknown, expired or already finished; start it again."))
    flow = SignIn(gateway_of(request).accounts, auth)
    status, page = await flow.complete(answer)
    if flow.done.done():
        flow.done.exception()  # retrieved here: the page already tells the user
    if status == 200:
        await gateway_of(request).reload_accounts()
    return html_response(status, page)


async def import_accounts(request: web.Request) -> web.Response:
    try:
        body: Any = msgspec.json.decode(await request.read())
    except msgspec.DecodeError:
        return error(400, "the body is not JSON")
    try:
        entries = importers.read_json(body, "body")
    except importers.UnknownFormat:
        return error(400, 'the body is not an import: {"accounts":[{"email","refresh_token"}]}, '
                     "a list of those, or an Antigravity Tools account file")
    outcomes = await gateway_of(request).accounts.import_entries(entries)
    if any(o.status != "failed" for o in outcomes):
        await gateway_of(request).reload_accounts()
    results = [{"entry": o.label, "status": o.status, "email": o.email or None,
                "error": o.reason or None} for o in outcomes]
    counts = {kind: sum(o.status == kind for o in outcomes)
              for kind in ("added", "updated", "failed")}
    return json_response({"results": results, **counts})


async def export_accounts(request: web.Request) -> web.Response:
    stored = await asyncio.to_thread(gateway_of(request).accounts.store.load_all)
    return json_response(importers.export_document(stored))


def add_routes(app: web.Application) -> None:
    app[PENDING] = login.Pending()
    app.router.add_post("/api/oauth/start", start_sign_in)
    app.router.add_get(CALLBACK_PATH, sign_in_callback)
    app.router.add_post("/api/accounts/import", import_accounts)
    app.router.add_get("/api/accounts/export", export_accounts)
