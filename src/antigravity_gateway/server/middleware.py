"""Cross-cutting request handling: request ids, and errors rendered in the client's protocol.

The error middleware is the only place that catches broad exceptions: it logs them with the
request id and answers a 500 envelope, so a bug never reaches a client as a traceback. It also
turns a client's hang-up into a 499 answer that nobody reads but every outer layer sees.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from ..errors import ClientDisconnected, GatewayError
from . import access_log
from .context import REQUEST_ID, too_large
from .dialects import dialect_of, error_response
from .unbuilt import no_route, wrong_method

log = logging.getLogger(__name__)


def request_ids(new_id: Callable[[], str]) -> Middleware:
    @web.middleware
    async def with_request_id(request: web.Request, handler: Handler) -> web.StreamResponse:
        request_id = request.headers.get("X-Request-Id") or new_id()
        request[REQUEST_ID] = request_id
        with access_log.Tagged(request_id):  # `[id]` on the lines logged meanwhile
            response = await handler(request)
        if not response.prepared:
            response.headers.setdefault("X-Request-Id", request_id)
        return response

    return with_request_id


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except asyncio.CancelledError:  # the runner cancels the handler at once on a hang-up
        if not client_gone(request):
            raise  # a shutdown, not a hang-up
        return _hung_up(request)  # a 499 for the access log and the monitor
    except ClientDisconnected:
        return _hung_up(request)
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


def client_gone(request: web.Request) -> bool:
    """True once the client's connection is closed."""
    transport = request.transport
    return transport is None or transport.is_closing()


def _hung_up(request: web.Request) -> web.Response:
    log.info("[%s] client hung up; request cancelled", request.get(REQUEST_ID, "-"))
    return _render(request, ClientDisconnected("the client closed the connection"))


def _render(request: web.Request, err: GatewayError) -> web.Response:
    response = error_response(dialect_of(request), err)
    response.headers.update(err.headers)
    response.headers["X-Request-Id"] = request.get(REQUEST_ID, "")
    return response
