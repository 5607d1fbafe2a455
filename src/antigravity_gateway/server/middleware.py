"""Cross-cutting request handling: request ids, CORS, and errors rendered in the client's protocol.

The error middleware is the only place that catches broad exceptions: it logs them with the
request id and answers a 500 envelope, so a bug never reaches a client as a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..errors import GatewayError
from .context import REQUEST_ID, too_large
from .dialects import dialect_of, error_response
from .unbuilt import no_route, wrong_method

log = logging.getLogger(__name__)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, HEAD, OPTIONS, PATCH",
    "Access-Control-Max-Age": "3600",
}


def request_ids(new_id: Callable[[], str]) -> Middleware:
    @web.middleware
    async def with_request_id(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = request.headers.get("X-Request-Id") or new_id()
        request[REQUEST_ID] = request_id
        response = await handler(request)
        if not response.prepared:
            response.headers.setdefault("X-Request-Id", request_id)
        return response

    return with_request_id


@web.middleware
async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method == "OPTIONS":
        asked = request.headers.get("Access-Control-Request-Headers", "*")
        return web.Response(
            status=204, headers={**CORS_HEADERS, "Access-Control-Allow-Headers": asked}
        )
    response = await handler(request)
    if not response.prepared:
        response.headers.update(CORS_HEADERS)
    return response


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except GatewayError as err:
        return _render(request, err)
    except web.HTTPRequestEntityTooLarge:
        return _render(request, too_large(request))
    except web.HTTPNotFound:
        return _render(request, no_route(request))
    except web.HTTPMethodNotAllowed as exc:
        return _render(request, wrong_method(request, exc.allowed_methods))
    except web.HTTPException:
        raise
    except Exception:
        log.exception(
            "[%s] unhandled error on %s %s",
            request.get(REQUEST_ID, "-"),
            request.method,
            request.path,
        )
        return _render(request, GatewayError("internal gateway error; see the gateway log"))


def _render(request: web.Request, err: GatewayError) -> web.Response:
    response = error_response(dialect_of(request), err)
    response.headers.update(err.headers)
    response.headers["X-Request-Id"] = request.get(REQUEST_ID, "")
    return response
