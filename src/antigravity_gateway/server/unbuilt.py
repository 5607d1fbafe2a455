"""Handlers for capabilities not built yet: a 501 in the client's protocol, never a bare 404."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from .. import __version__
from ..errors import NotImplementedYet


def not_built(what: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        raise NotImplementedYet(
            f"{what} is not implemented in antigravity-gateway {__version__} yet"
        )

    return handler
