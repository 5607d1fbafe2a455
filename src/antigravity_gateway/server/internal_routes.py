"""`POST /internal/warmup` and `POST /v1/models/detect` (docs/upstream.md §11.4).

A warmup is one minimal request on the named account, through `Gateway.serve` pinned to that
account: the pool's own token refresh, the usual error classification. Unlike the reference it
needs the API key like every route, and no access token in the body.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..core.messages import ChatRequest, Message, Reasoning, Text
from ..errors import GatewayError, InvalidRequest, NotFound
from ..protocols import fields
from ..protocols.gemini.modes import image_config
from ..routing.variants import is_image_model
from .context import gateway_of, read_json, request_id_of
from .dialects import json_response
from .pipeline import Gateway
from .relay import assemble

WARMUP_PROMPT = "Say hi"
WARMUP_TOKENS = 16
TEXT_ONLY = {"gemini": {"generationConfig": {"responseModalities": ["TEXT"]}}}  # no image drawn


async def warmup(request: web.Request) -> web.Response:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    email = fields.string(body.get("email"), "email", nonempty=True)
    model = fields.string(body.get("model"), "model", nonempty=True)
    status, answer, headers = await warm(gateway_of(request), email, model, request_id_of(request))
    return json_response(answer, status=status, headers=headers)


async def warm(
    gateway: Gateway, email: str, model: str, request_id: str = ""
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, `{"success","message"[,"error"]}`, headers) of one warmup request."""
    if gateway.pool.get(email) is None:
        raise NotFound(f"no account {email}: see `agm accounts list`")
    req = ChatRequest(
        model=model,
        messages=(Message(role="user", parts=(Text(text=WARMUP_PROMPT),)),),
        max_tokens=WARMUP_TOKENS,
        reasoning=Reasoning(effort="none", include_thoughts=False),
        passthrough=TEXT_ONLY if is_image_model(model) else {},
    )
    try:
        served = await gateway.serve(req, account=email)
        await assemble(served.events)
    except GatewayError as exc:
        failed = {"success": False, "message": f"Warmup failed: HTTP {exc.http_status}",
                  "error": exc.message}  # fmt: skip
        return exc.http_status, failed, {"X-Account-Email": email, **exc.headers}
    done = {"success": True, "message": f"Warmup triggered for {model}"}
    return 200, done, served.headers(request_id)


async def detect(request: web.Request) -> web.Response:
    """How a model name would be served (mapped model, type, features), calling no one."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidRequest("request body must be a JSON object")
    model = fields.string(body.get("model"), "model", nonempty=True)
    route = gateway_of(request).route(model)
    image = is_image_model(route.upstream)
    kind = "image_gen" if image else "web_search" if route.web_search else "agent"
    answer: dict[str, Any] = {
        "model": model,
        "mapped_model": route.upstream,
        "type": kind,
        "features": {"has_web_search": route.web_search, "is_image_gen": image},
    }
    if image:
        answer["config"] = image_config(route.image, None)
    return json_response(answer)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/internal/warmup", warmup)
    router.add_post("/v1/models/detect", detect)
