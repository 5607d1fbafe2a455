"""The admin API under `/api` (README "See what it does"): thin handlers over the account pool
and service, the settings (admin_config.py) and the monitor; also `GET /metrics`.

Auth is the rule in `auth.py` (always required except `GET /api/health`); errors are
`{"error": msg}` with a 4xx (the ADMIN dialect). Bad query values are refused before anything
runs. Account import/export and Google sign-in are in admin_accounts.py, under the same rule.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import msgspec
from aiohttp import web

from .. import __version__
from ..accounts.oauth import InvalidGrant
from ..accounts.pool import Cooldown
from ..accounts.store import Account
from ..errors import GatewayError, InvalidRequest, NotFound
from ..monitor import queries
from ..monitor.metrics import CONTENT_TYPE
from ..monitor.record import PROTOCOLS
from . import admin_config
from .admin_config import ADMIN
from .context import gateway_of, read_json
from .dialects import json_response
from .monitoring import MONITOR
from .pipeline import Gateway
from .relay import SSE_HEADERS

FEED_PING_SECONDS = 15.0
FEED_WRITE_SECONDS = 10.0  # a reader that takes longer to accept one write is dropped


def account_states(gateway: Gateway) -> dict[str, int]:
    """Accounts by state: usable, cooling (usable, some cooldown active), disabled."""
    cooling = {c.email for c in gateway.pool.cooldowns()}
    states = {"usable": 0, "cooling": 0, "disabled": 0}
    for account in gateway.pool.accounts:
        state = ("disabled" if not account.is_usable
                 else "cooling" if account.email in cooling else "usable")
        states[state] += 1
    return states


# ---- status, health, metrics ------------------------------------------------------------------

async def health(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def status(request: web.Request) -> web.Response:
    gateway, monitor = gateway_of(request), request.app[MONITOR]
    port = _listening_port(request) or gateway.settings.proxy.port
    host = gateway.settings.proxy.bind_host
    return json_response({
        "version": __version__,
        "uptime_s": round(time.monotonic() - request.app[ADMIN].started, 1),
        "port": port,
        "base_url": f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}",
        "auth_mode": gateway.settings.effective_auth_mode,
        "accounts": {"total": len(gateway.pool.accounts), "usable": len(gateway.pool.usable())},
        "requests": {"total": monitor.requests_total, "errors": monitor.errors_total},
        "active_streams": monitor.active_streams,
        "monitor": {"enabled": monitor.settings.enabled, "writing": monitor.writer.healthy,
                    "dropped": monitor.writer.dropped},
    })


def _listening_port(request: web.Request) -> int:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    return int(sockname[1]) if isinstance(sockname, tuple) and len(sockname) >= 2 else 0


async def metrics(request: web.Request) -> web.Response:
    body = request.app[MONITOR].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


# ---- accounts -------------------------------------------------------------------------------

def describe_account(account: Account, cooldowns: list[Cooldown]) -> dict[str, Any]:
    reason = account.disabled_reason
    if account.needs_verification and not reason:
        reason = f"needs verification: {account.verification_url}".rstrip(": ")
    quota = account.quota
    return {
        "id": account.id,
        "email": account.email,
        "tier": account.tier,
        "project_id": account.project_id,
        "enabled": account.is_usable,
        "disabled_reason": reason,
        "quota": {
            "models": [{"name": name, "percentage": q.percentage, "reset_time": q.reset_time}
                       for name, q in sorted(quota.models.items())],
            "last_updated": quota.fetched_at,
        },
        "cooldowns": [{"model": c.model or "*", "until": c.until, "reason": c.reason}
                      for c in cooldowns if c.email == account.email],
        "last_used": account.last_used,
    }


async def list_accounts(request: web.Request) -> web.Response:
    pool = gateway_of(request).pool
    cooldowns = pool.cooldowns()
    return json_response({"accounts": [describe_account(a, cooldowns) for a in pool.accounts]})


async def _find(request: web.Request) -> Account:
    key = request.match_info["key"]
    account = await asyncio.to_thread(request.app[ADMIN].store.get, key)
    if account is None:
        raise NotFound(f"no account with id or email {key!r}")
    return account


def _one(request: web.Request, account: Account, status: int = 200) -> web.Response:
    pool = gateway_of(request).pool
    current = pool.get(account.email) or account
    return json_response(describe_account(current, pool.cooldowns()), status=status)


async def add_account(request: web.Request) -> web.Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidRequest('expected {"refresh_token": "..."}')
    token = body.get("refresh_token") or body.get("refreshToken")
    if not isinstance(token, str) or not token.strip():
        raise InvalidRequest('expected {"refresh_token": "..."}')
    try:
        account = await gateway_of(request).accounts.enroll(token.strip())
    except InvalidGrant as exc:
        raise InvalidRequest(f"Google rejected the refresh token ({exc.message})") from None
    await gateway_of(request).reload_accounts()
    return _one(request, account, status=201)


async def remove_account(request: web.Request) -> web.Response:
    account = await _find(request)
    await asyncio.to_thread(request.app[ADMIN].store.remove, account.id)
    await gateway_of(request).reload_accounts()
    return json_response({"removed": account.email, "id": account.id})


async def enable_account(request: web.Request) -> web.Response:
    return await _set_enabled(request, True)


async def disable_account(request: web.Request) -> web.Response:
    return await _set_enabled(request, False)


async def _set_enabled(request: web.Request, enabled: bool) -> web.Response:
    account = await _find(request)
    changes: dict[str, Any] = (
        {"disabled": False, "disabled_reason": "", "disabled_at": 0.0,
         "needs_verification": False, "verification_url": ""} if enabled
        else {"disabled": True, "disabled_reason": "manual", "disabled_at": time.time()})
    updated = await gateway_of(request).accounts.amend(account, **changes)
    await gateway_of(request).reload_accounts()
    return _one(request, updated)


async def refresh_accounts(request: web.Request) -> web.Response:
    """Refresh every account's token and quota now; one result per account."""
    gateway = gateway_of(request)
    results = await asyncio.gather(*(_refresh(gateway, a) for a in gateway.pool.accounts))
    return json_response({"accounts": list(results)})


async def _refresh(gateway: Gateway, account: Account) -> dict[str, Any]:
    if not account.is_usable:
        return {"email": account.email, "ok": False, "error": "disabled"}
    try:
        fresh = await gateway.fresh_token(account, force=True)
        updated = await gateway.accounts.refresh_quota(fresh)
    except (GatewayError, InvalidGrant) as exc:
        return {"email": account.email, "ok": False, "error": str(exc)}
    if (current := gateway.pool.get(account.email)) is not None:
        gateway.pool.update(msgspec.structs.replace(current, quota=updated.quota))
    return {"email": account.email, "ok": True, "error": ""}


async def clear_cooldowns(request: web.Request) -> web.Response:
    pool = gateway_of(request).pool
    count = len(pool.cooldowns())
    pool.forget_all()
    return json_response({"cleared": count})


# ---- logs and stats -------------------------------------------------------------------------

def _int(query: Mapping[str, str], name: str, low: int, high: int | None = None) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise InvalidRequest(f"{name} must be an integer {bound} (got {raw!r})")
    return value


def _flag(query: Mapping[str, str], name: str) -> bool:
    raw = query.get(name, "").lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise InvalidRequest(f"{name} must be 1 or 0 (got {raw!r})")


def log_filter(query: Mapping[str, str]) -> queries.LogFilter:
    protocol = query.get("protocol", "")
    if protocol and protocol not in PROTOCOLS:
        raise InvalidRequest(f"protocol must be one of {', '.join(PROTOCOLS)}")
    limit = _int(query, "limit", 1, queries.MAX_LIMIT)
    return queries.LogFilter(
        limit=100 if limit is None else limit,
        before=_int(query, "before", 0),
        after=_int(query, "after", 0),
        q=query.get("q", "")[:200],
        status=_int(query, "status", 0, 999),
        errors=_flag(query, "errors"),
        account=query.get("account", ""),
        model=query.get("model", ""),
        protocol=protocol,
    )


async def list_logs(request: web.Request) -> web.Response:
    rows, total = await request.app[MONITOR].logs(log_filter(request.query))
    return json_response({"logs": rows, "total": total})


async def get_log(request: web.Request) -> web.Response:
    raw = request.match_info["id"]
    log_id = _int({"id": raw}, "id", 1)
    row = await request.app[MONITOR].log(log_id or 0)
    if row is None:
        raise NotFound(f"no log row with id {raw}")
    return json_response(row)


async def clear_logs(request: web.Request) -> web.Response:
    try:
        deleted = await request.app[MONITOR].clear()
    except RuntimeError as exc:
        raise GatewayError(str(exc)) from None
    return json_response({"deleted": deleted})


async def stats(request: web.Request) -> web.Response:
    by = request.query.get("by", "day")
    if by not in queries.BUCKETS:
        raise InvalidRequest(f"by must be one of {', '.join(queries.BUCKETS)}")
    since, until = _int(request.query, "since", 0), _int(request.query, "until", 0)
    buckets = await request.app[MONITOR].stats(by, since, until)
    return json_response({"buckets": buckets})


async def logs_stream(request: web.Request) -> web.StreamResponse:
    """SSE, one `data: <row>` per stored request; a reader that falls behind is dropped."""
    feed = request.app[MONITOR].feed
    sub = feed.subscribe()
    response = web.StreamResponse(headers=SSE_HEADERS)
    try:
        await response.prepare(request)
        await response.write(b": connected\n\n")
        while True:
            try:
                row = await asyncio.wait_for(sub.queue.get(), FEED_PING_SECONDS)
            except TimeoutError:
                frame = b": ping\n\n"
            else:
                if row is None:
                    break
                frame = b"data: " + msgspec.json.encode(row) + b"\n\n"
            await asyncio.wait_for(response.write(frame), FEED_WRITE_SECONDS)
    except (ConnectionError, TimeoutError):
        pass
    finally:
        feed.unsubscribe(sub)
    return response


ROUTES = (
    ("GET", "/api/health", health),
    ("GET", "/api/status", status),
    ("GET", "/api/accounts", list_accounts),
    ("POST", "/api/accounts", add_account),
    ("POST", "/api/accounts/refresh", refresh_accounts),
    ("DELETE", "/api/accounts/{key}", remove_account),
    ("POST", "/api/accounts/{key}/enable", enable_account),
    ("POST", "/api/accounts/{key}/disable", disable_account),
    ("GET", "/api/config", admin_config.show),
    ("PATCH", "/api/config", admin_config.patch),
    ("GET", "/api/key", admin_config.show_key),
    ("POST", "/api/key/regenerate", admin_config.regenerate_key),
    ("GET", "/api/models/resolve", admin_config.resolve_model),
    ("DELETE", "/api/cooldowns", clear_cooldowns),
    ("GET", "/api/logs", list_logs),
    ("DELETE", "/api/logs", clear_logs),
    ("GET", "/api/logs/stream", logs_stream),  # before {id}
    ("GET", "/api/logs/{id}", get_log),
    ("GET", "/api/stats", stats),
    ("GET", "/metrics", metrics),
)


def add_routes(router: web.UrlDispatcher) -> None:
    for method, path, handler in ROUTES:
        router.add_route(method, path, handler)
