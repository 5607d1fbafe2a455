"""Google Cloud Code `v1internal`: the envelope, the headers and the base-URL fallback.

`CloudCode` is the one place that talks HTTP to the upstream. It does not choose accounts,
refresh tokens or retry on another account: that is the attempt loop's job. `CloudCodeProvider`
is the provider (providers/base.py) the Google account pool serves through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from ..accounts.pool import Pool
from ..accounts.store import Account
from ..core import network
from ..core.messages import ChatRequest
from ..errors import UpstreamError
from ..protocols.gemini import outbound as gemini
from ..routing.models import Route
from ..routing.sessions import session_id_of
from . import http, wire
from .base import EventStream
from .offload import off_loop_if_big

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "antigravity/1.15.8 linux/amd64"
FALLBACK_STATUSES = frozenset({404, 408})  # and 5xx: try the next base URL (docs/upstream.md §1)
_json_encode = http.json_encode


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """What goes around a Gemini request: identifies the account's project and the call."""

    model: str
    project: str
    request_id: str
    session_id: str = ""
    request_type: str = "agent"
    user_agent: str = "antigravity"


def wrap(request: dict[str, Any], env: Envelope) -> dict[str, Any]:
    """The v1internal generate body (docs/upstream.md §3.1)."""
    inner = dict(request)
    if env.session_id:
        inner["sessionId"] = env.session_id
    body: dict[str, Any] = {"model": env.model}
    if env.project:
        body["project"] = env.project
    body["requestId"] = env.request_id
    body["requestType"] = env.request_type
    body["userAgent"] = env.user_agent
    body["request"] = inner
    return body


def unwrap(body: Any) -> dict[str, Any]:
    """Every v1internal answer nests the model response under `response`."""
    if isinstance(body, dict):
        inner = body.get("response")
        return inner if isinstance(inner, dict) else body
    return {}


class CloudCode:
    """The HTTP client of v1internal: unary calls and the generate stream, over the base URLs."""

    def __init__(
        self,
        client: wire.Client,
        base_urls: Sequence[str],
        *,
        proxy: str | None = None,
        timeout: float = 600.0,
        user_agent: str = DEFAULT_USER_AGENT,
    ) -> None:
        self._client = client
        self.configure(base_urls, proxy=proxy, timeout=timeout, user_agent=user_agent)

    def configure(
        self, base_urls: Sequence[str], *, proxy: str | None, timeout: float, user_agent: str
    ) -> None:
        """Take new settings (a live reload); requests already under way keep the old ones."""
        if not base_urls:
            raise ValueError("at least one Cloud Code base URL is needed")
        self._base_urls = tuple(u.rstrip("/") for u in base_urls)
        self._proxy = proxy or None
        self._timeout = wire.Timeout(total=timeout, connect=http.CONNECT_SECONDS)
        self._user_agent = user_agent

    def _headers(self, token: str, accept: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": accept,
            "User-Agent": self._user_agent,
        }

    async def call(self, method: str, token: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """A unary `POST /v1internal:<method>`; the parsed JSON answer."""
        resp = await self._post(
            f"/v1internal:{method}", token, _json_encode(body), "application/json"
        )
        async with resp:
            return http.as_dict(await resp.read())

    async def get_operation(self, name: str, token: str) -> dict[str, Any]:
        """Poll a long-running operation (`GET /v1internal/<name>`)."""
        resp = await self._request("GET", f"/v1internal/{name}", token, None, "application/json")
        async with resp:
            return http.as_dict(await resp.read())

    async def stream(self, token: str, body: Mapping[str, Any]) -> http.SseChunks:
        """`streamGenerateContent?alt=sse`: reads each chunk's unwrapped response object.

        Fallback to the next base URL happens only before the first chunk (while connecting).
        """
        payload = _json_encode(body)
        resp = await self._post(
            "/v1internal:streamGenerateContent?alt=sse", token, payload, "text/event-stream"
        )
        return http.SseChunks(resp, unwrap)

    async def _post(self, path: str, token: str, payload: bytes, accept: str) -> wire.Response:
        return await self._request("POST", path, token, payload, accept)

    async def _request(
        self, verb: str, path: str, token: str, payload: bytes | None, accept: str
    ) -> wire.Response:
        """Each base URL in turn, moving on at a network error, 404, 408 or 5xx; any other
        status >= 400 is an UpstreamError, its retry delay parsed from the body."""
        last: UpstreamError | None = None
        for base in self._base_urls:
            try:
                async with network.waiting_for(base):
                    resp = await self._client.request(
                        verb, base + path, body=payload, headers=self._headers(token, accept),
                        proxy=self._proxy, timeout=self._timeout,
                    )
            except OSError as exc:  # every failure of the upstream client
                reason = network.describe(exc, base, self._timeout)
                log.warning("upstream unreachable: %s", reason)
                last = UpstreamError(502, "", message=f"upstream unreachable: {reason}")
                continue
            if resp.status < 400:
                return resp
            last = await http.error_of(resp)
            if resp.status not in FALLBACK_STATUSES and resp.status < 500:
                raise last
            log.warning("upstream %s answered %d, trying the next base URL", base, resp.status)
        assert last is not None
        raise last


def encode_body(req: ChatRequest, model: str) -> dict[str, Any]:
    """The Gemini body, its `contents` already JSON (msgspec.Raw): for a big request this runs
    in a worker thread, and the envelope's encoding on the event loop stays cheap."""
    body = dict(gemini.encode_request(req, model=model))
    if isinstance(contents := body.get("contents"), list):
        # one turn at a time: each encode holds the GIL briefly, so the loop thread keeps going
        body["contents"] = msgspec.Raw(b"[" + b",".join(map(_json_encode, contents)) + b"]")
    return body


class CloudCodeProvider:
    """Google's Cloud Code behind the account pool: Gemini bodies in the v1internal envelope."""

    def __init__(self, client: CloudCode, pool: Pool, new_id: Callable[[], str]) -> None:
        self.client = client
        self._pool = pool
        self._new_id = new_id

    async def open_stream(self, req: ChatRequest, route: Route, credential: Account) -> EventStream:
        body = await off_loop_if_big(encode_body, req, route.upstream)
        envelope = Envelope(
            model=route.upstream,
            project=credential.project_id,
            session_id=session_id_of(req),
            request_id=f"agent-{self._new_id()}",
            request_type=gemini.request_type(body, route.upstream),
        )
        chunks = await self.client.stream(credential.access_token, wrap(body, envelope))
        return EventStream(chunks, gemini.StreamDecoder(model=route.upstream))

    async def count_tokens(self, req: ChatRequest, route: Route, credential: Account) -> int:
        contents = gemini.encode_count_contents(req, model=route.upstream)
        request = {"request": {"model": f"models/{route.upstream}", "contents": contents}}
        answer = await self.client.call("countTokens", credential.access_token, request)
        return int(answer.get("totalTokens", 0))

    def list_models(self) -> set[str]:
        """What the accounts' quota snapshots list (no call: the snapshots are kept fresh)."""
        return self._pool.offered_models()
