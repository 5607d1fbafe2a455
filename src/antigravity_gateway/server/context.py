"""Per-app and per-request context shared by the handlers: the gateway, the request id, the body."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from ..errors import InvalidRequest, PayloadTooLarge
from ..state.base import Store
from .pipeline import Gateway

GATEWAY = web.AppKey("gateway", Gateway)
STATE = web.AppKey("state", Store)  # `.connected`: False while Redis is away (for a metric)
REQUEST_ID = web.RequestKey("request_id", str)
_decode = msgspec.json.Decoder().decode


def gateway_of(request: web.Request) -> Gateway:
    return request.app[GATEWAY]


def request_id_of(request: web.Request) -> str:
    return str(request.get(REQUEST_ID, ""))


def too_large(request: web.Request) -> PayloadTooLarge:
    limit = request.client_max_size
    return PayloadTooLarge(f"request body is larger than proxy.max_body_bytes ({limit} bytes)")


async def read_json(request: web.Request) -> Any:
    """The body as JSON; 413 over the size limit, 400 when it is not JSON."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise too_large(request) from exc
    if not raw.strip():
        raise InvalidRequest("request body is empty; expected a JSON object")
    try:
        return _decode(raw)
    except msgspec.DecodeError as exc:
        raise InvalidRequest(f"request body is not valid JSON ({exc})") from exc
