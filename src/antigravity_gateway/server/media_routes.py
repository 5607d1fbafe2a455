"""OpenAI's Images and Audio endpoints, served through the gateway like every chat request.

Each image (of `n`) and each transcription is one hub request to `Gateway.serve`: the same
account choice, rotation on 429s, retries and headers as chat. The `n` images are made
concurrently; the answer holds those that succeeded, and fails with the first error when none
did. Bad input is refused before anything goes upstream.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiohttp import web

from ..core.messages import ChatRequest, ChatResponse, Media, Usage
from ..errors import GatewayError, UpstreamError
from ..protocols.openai_media import audio, images
from .context import decode, gateway_of, read_json, request_id_of
from .dialects import json_response
from .multipart import read_form
from .pipeline import Gateway
from .relay import assemble


@dataclass(frozen=True, slots=True)
class Answered:
    """One finished upstream answer and the headers that say who made it."""

    response: ChatResponse
    headers: dict[str, str]


async def ask(gateway: Gateway, req: ChatRequest, request_id: str) -> Answered:
    served = await gateway.serve(req)
    return Answered(await assemble(served.events), served.headers(request_id))


async def generations(request: web.Request) -> web.Response:
    return await _draw(request, await decode(images.decode_generation, await read_json(request)))


async def edits(request: web.Request) -> web.Response:
    form = await read_form(request, file_limit=images.MAX_UPLOAD_BYTES)
    return await _draw(request, await decode(images.decode_edit, form))


async def _draw(request: web.Request, job: images.ImageJob) -> web.Response:
    gateway, request_id = gateway_of(request), request_id_of(request)
    req = job.chat_request()
    tries = [ask(gateway, req, request_id) for _ in range(job.n)]
    results = await asyncio.gather(*tries, return_exceptions=True)
    answered = [r for r in results if isinstance(r, Answered)]
    failures = [r for r in results if not isinstance(r, Answered)]
    for failure in failures:
        if not isinstance(failure, GatewayError):
            raise failure
    pictures = [m for a in answered for m in _pictures(a.response)]
    if not pictures:
        raise failures[0] if failures else _no_image(answered[0].response)
    usage = Usage(
        input_tokens=sum(a.response.usage.input_tokens for a in answered),
        output_tokens=sum(a.response.usage.output_tokens for a in answered),
    )
    body = images.encode_images(
        pictures, job.response_format, created=int(gateway.clock()), usage=usage
    )
    return json_response(body, headers=answered[0].headers)


def _pictures(resp: ChatResponse) -> list[Media]:
    return [p for p in resp.parts if isinstance(p, Media) and p.data]


def _no_image(resp: ChatResponse) -> UpstreamError:
    said = resp.text.strip()[:300] or f"finish reason {resp.finish_reason}"
    return UpstreamError(502, said, message=f"the model answered without an image: {said}")


async def transcriptions(request: web.Request) -> web.StreamResponse:
    form = await read_form(request, file_limit=audio.MAX_BYTES)
    job = await decode(audio.decode_transcription, form)
    answered = await ask(gateway_of(request), job.chat_request(), request_id_of(request))
    content_type, body = audio.encode_transcription(answered.response.text, job)
    if isinstance(body, str):
        return web.Response(text=body, content_type=content_type, headers=answered.headers)
    return json_response(body, headers=answered.headers)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/v1/images/generations", generations)
    router.add_post("/v1/images/edits", edits)
    router.add_post("/v1/audio/transcriptions", transcriptions)
