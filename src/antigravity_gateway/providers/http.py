"""HTTP pieces every provider shares: error answers -> `UpstreamError`, SSE bodies -> JSON chunks.

An error answer keeps its status, body and retry delay (headers first, then the body, see
routing/retry.py) and the upstream's own `error.message` when the body is the usual
`{"error": {"message": ...}}` of Google, OpenAI and Anthropic alike. Nothing here retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from ..core import network
from ..core.sse import SseDecoder
from ..errors import UpstreamError
from ..routing.retry import parse_retry_delay
from .wire import Client, Response, Timeout

log = logging.getLogger(__name__)

_json_decode = msgspec.json.Decoder().decode
json_encode = msgspec.json.Encoder().encode
CONNECT_SECONDS = 20


async def error_of(resp: Response) -> UpstreamError:
    async with resp:
        try:
            text = (await resp.read()).decode("utf-8", errors="replace")
        except OSError:
            text = ""
    delay = parse_retry_delay(text, resp.headers)
    return UpstreamError(
        resp.status, text, retry_after=delay, message=_message_of(resp.status, text)
    )


def _message_of(status: int, text: str) -> str:
    """The upstream's own `error.message` when the body is an error JSON."""
    try:
        body = _json_decode(text)
    except msgspec.DecodeError:
        return f"upstream returned HTTP {status}"
    if isinstance(body, list) and body:
        body = body[0]
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        return f"upstream returned HTTP {status}: {err['message']}"
    return f"upstream returned HTTP {status}"


def as_dict(raw: bytes) -> dict[str, Any]:
    """A unary JSON answer; anything but JSON is a 502."""
    try:
        body = _json_decode(raw) if raw else {}
    except msgspec.DecodeError as exc:
        raise UpstreamError(
            502, raw[:500].decode(errors="replace"), message="upstream sent invalid JSON"
        ) from exc
    return body if isinstance(body, dict) else {}


def _identity(body: dict[str, Any]) -> dict[str, Any]:
    return body


class SseChunks:
    """An upstream's SSE body as it arrives: each `read()` gives the JSON objects of the events
    completed so far (malformed ones skipped), [] once the body has ended. A plain object, not
    an async generator: one layer less on every chunk (bench/README.md).

    `require`: a body that held no JSON event at all (garbage) is a 502, so the next credential
    is tried. `close()` releases the response; one not read to its end loses its connection,
    which is how a client's hang-up stops the generation upstream.
    """

    def __init__(
        self,
        resp: Response,
        unwrap: Callable[[Any], dict[str, Any]] = _identity,
        *,
        require: bool = False,
    ) -> None:
        self._resp = resp
        self._unwrap = unwrap
        self._require = require
        self._decoder = SseDecoder()
        self._seen = False
        self._ended = False

    async def read(self) -> list[dict[str, Any]]:
        chunks: list[dict[str, Any]] = []
        while not chunks and not self._ended:
            raw = await self._receive()
            events = self._decoder.feed(raw) if raw else []
            if not raw or self._resp.at_eof():  # the end came too: no read to learn it
                self._ended = True
                events += self._decoder.close()
            unwrap = self._unwrap
            chunks = [c for e in events if (c := _chunk_of(e.data, unwrap)) is not None]
        self._seen = self._seen or bool(chunks)
        if self._ended:
            self.close()
            if self._require and not self._seen:
                raise UpstreamError(502, "", message="upstream sent no readable stream events")
        return chunks

    @property
    def ended(self) -> bool:
        """The body has ended: what `read` gave last was all of it."""
        return self._ended

    async def _receive(self) -> bytes:
        try:
            return await self._resp.readany()
        except OSError as exc:  # every failure of the upstream client
            self.close()
            reason = network.describe(exc, self._resp.url)
            raise UpstreamError(502, "", message=f"upstream stream broke: {reason}") from exc

    def close(self) -> None:
        self._resp.release()


def _chunk_of(data: str, unwrap: Callable[[Any], dict[str, Any]]) -> dict[str, Any] | None:
    if not data or data == "[DONE]":
        return None
    try:
        parsed = _json_decode(data)
    except msgspec.DecodeError:
        log.warning("skipping a malformed upstream SSE chunk")
        return None
    return unwrap(parsed) if isinstance(parsed, dict) or unwrap is not _identity else None


async def post(
    client: Client,
    url: str,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    *,
    proxy: str | None,
    timeout: Timeout,
) -> Response:
    """POST a JSON body; a status >= 400 or a network failure is an `UpstreamError`."""
    try:
        resp = await client.request(
            "POST", url, body=json_encode(body),
            headers={"Content-Type": "application/json", **headers}, proxy=proxy, timeout=timeout,
        )
    except OSError as exc:
        reason = network.describe(exc, url, timeout)
        raise UpstreamError(502, "", message=f"upstream unreachable: {reason}") from exc
    if resp.status >= 400:
        raise await error_of(resp)
    return resp


class Transport:
    """An API-key upstream's HTTP side: its base URL, the shared client, proxy and timeout."""

    def __init__(
        self, client: Client, base_url: str, *, proxy: str = "", timeout: float = 600.0,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.proxy = proxy or None
        self.timeout = Timeout(total=timeout, connect=CONNECT_SECONDS)

    async def stream(
        self, path: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> SseChunks:
        """POST and read the answer as SSE JSON events (a body without any is a 502)."""
        resp = await post(self.client, self.base_url + path, body,
                          {"Accept": "text/event-stream", **headers},
                          proxy=self.proxy, timeout=self.timeout)
        return SseChunks(resp, require=True)

    async def call(
        self, path: str, body: Mapping[str, Any], headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """POST and read the JSON answer."""
        resp = await post(self.client, self.base_url + path, body,
                          {"Accept": "application/json", **headers},
                          proxy=self.proxy, timeout=self.timeout)
        async with resp:
            try:
                raw = await resp.read()
            except OSError as exc:
                raise UpstreamError(502, "", message="upstream answer broke off") from exc
        return as_dict(raw)
