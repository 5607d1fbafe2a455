"""Reads a multipart/form-data body into a `Form`, with limits, via aiohttp's multipart reader.

Each file may hold at most `file_limit` bytes (over it: 413 naming the field), each text field
64 KiB, the whole body `proxy.max_body_bytes`; the parts are read as they arrive, never more
than the limit plus one chunk. A body that is not multipart, or whose framing is broken, is a
400. Nothing is written to disk.
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from ..errors import InvalidRequest, PayloadTooLarge
from ..protocols.openai_media.form import Form, Upload

FIELD_LIMIT = 64 * 1024
_CHUNK = 65536


async def read_form(request: web.Request, *, file_limit: int) -> Form:
    if request.content_type != "multipart/form-data":
        raise InvalidRequest(
            f"the body must be multipart/form-data, got {request.content_type or 'nothing'}"
        )
    budget = _Budget(request.client_max_size)
    fields: dict[str, str] = {}
    files: list[Upload] = []
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader):
                raise InvalidRequest("nested multipart bodies are not supported")
            name = part.name or ""
            if part.filename is not None:
                data = await _read(part, name, file_limit, budget)
                content_type = part.headers.get("Content-Type", "")
                files.append(Upload(field=name, filename=part.filename,
                                    content_type=content_type, data=data))  # fmt: skip
            else:
                fields[name] = (await _read(part, name, FIELD_LIMIT, budget)).decode()
    except (ValueError, AssertionError, aiohttp.ClientPayloadError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"broken multipart body: {exc or type(exc).__name__}") from None
    return Form(fields=fields, files=tuple(files))


class _Budget:
    """What is left of the whole body's allowance."""

    def __init__(self, total: int) -> None:
        self.total = self.left = total

    def take(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise PayloadTooLarge(f"request body is larger than {self.total} bytes")


async def _read(part: aiohttp.BodyPartReader, name: str, limit: int, budget: _Budget) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(_CHUNK):
        data += chunk
        budget.take(len(chunk))
        if len(data) > limit:
            raise PayloadTooLarge(f"{name or 'a field'} is larger than {limit} bytes")
    return (
        bytes(part.decode(data)) if part.headers.get("Content-Transfer-Encoding") else bytes(data)
    )
