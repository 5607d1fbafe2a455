"""Routes of the dashboard: its files, sign-in and sign-out.

Files are read once when the app is built and served from memory with a strict CSP (scripts
and styles from this origin only, no inline script, no eval: Alpine's CSP build). Sign-in
takes the admin password (or the api_key when none is set) and sets an HttpOnly,
SameSite=Strict session cookie; the CSRF token comes back in the body for the page to send.
"""

from __future__ import annotations

import hmac
import mimetypes
import time
from importlib import resources

from aiohttp import web

from ..server import sessions
from ..server.context import GATEWAY
from ..server.dialects import json_response

STATIC = resources.files(__package__) / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


def _load_files() -> dict[str, tuple[bytes, str]]:
    """Every file under static/, by its path below /ui/."""
    files: dict[str, tuple[bytes, str]] = {}
    pending = [("", STATIC)]
    while pending:
        prefix, folder = pending.pop()
        for entry in folder.iterdir():
            name = f"{prefix}{entry.name}"
            if entry.is_dir():
                pending.append((name + "/", entry))
            else:
                kind = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
                files[name] = (entry.read_bytes(), kind)
    files[""] = files["index.html"]
    return files


def _secret(request: web.Request) -> str:
    proxy = request.app[GATEWAY].settings.proxy
    return sessions.admin_secret(proxy.admin_password, proxy.api_key)


async def _session_state(request: web.Request) -> web.Response:
    """`GET /ui/session`: whether this browser is signed in, and its CSRF token if so."""
    secret, token = _secret(request), request.cookies.get(sessions.COOKIE, "")
    if token and sessions.valid(secret, token, time.time()):
        return json_response({"signed_in": True, "csrf": sessions.csrf_token(secret, token)})
    return json_response({"signed_in": False})


async def _login(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return json_response({"error": "send JSON {\"password\": ...}"}, status=400)
    password = body.get("password") if isinstance(body, dict) else None
    secret = _secret(request)
    if not isinstance(password, str) or not password:
        return json_response({"error": "password is required"}, status=400)
    if not secret or not hmac.compare_digest(password.encode(), secret.encode()):
        return json_response({"error": "wrong password"}, status=401)
    token = sessions.issue(secret, time.time())
    response = json_response({"signed_in": True, "csrf": sessions.csrf_token(secret, token)})
    response.set_cookie(
        sessions.COOKIE, token, max_age=sessions.TTL_SECONDS, path="/",
        httponly=True, samesite="Strict", secure=request.secure,
    )
    return response


async def _logout(request: web.Request) -> web.Response:
    response = json_response({"signed_in": False})
    response.del_cookie(sessions.COOKIE, path="/")
    return response


def add_routes(router: web.UrlDispatcher) -> None:
    files = _load_files()

    async def serve_file(request: web.Request) -> web.StreamResponse:
        found = files.get(request.match_info["path"])
        if found is None:
            raise web.HTTPNotFound()
        body, kind = found
        return web.Response(body=body, content_type=kind, headers=SECURITY_HEADERS)

    async def to_index(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/ui/")

    router.add_get("/ui", to_index)
    router.add_get("/ui/session", _session_state)
    router.add_post("/ui/login", _login)
    router.add_post("/ui/logout", _logout)
    router.add_get("/ui/{path:.*}", serve_file)
