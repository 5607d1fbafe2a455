"""A tiny synchronous HTTP client for e2e tests of the gateway's own JSON routes (stdlib only).

`Api(base_url, headers).get("/api/logs", params={...})` -> `Resp` with `status_code`, `headers`,
`text` and `json()`; `lines(path)` iterates the lines of a streamed answer (SSE).
"""

from __future__ import annotations

import json as jsonlib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass
class Resp:
    status_code: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        return jsonlib.loads(self.text)


class Api:
    def __init__(self, base_url: str, headers: Mapping[str, str] | None = None) -> None:
        self.base_url = base_url
        self.headers = dict(headers or {})

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, content: bytes | None = None,
                headers: Mapping[str, str] | None = None, timeout: float = 30) -> Resp:
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        data = content
        sent = {**self.headers, **(headers or {})}
        if json is not None:
            data = jsonlib.dumps(json).encode()
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(url, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as answer:
                return Resp(answer.status, dict(answer.headers), answer.read().decode())
        except urllib.error.HTTPError as err:
            return Resp(err.code, dict(err.headers), err.read().decode())

    def get(self, path: str, **kw: Any) -> Resp:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Resp:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Resp:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Resp:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Resp:
        return self.request("DELETE", path, **kw)

    def lines(self, path: str, timeout: float = 10) -> Iterator[str]:
        """The answer's lines as they arrive (for SSE); the connection closes when done."""
        req = urllib.request.Request(self.base_url + path, headers=self.headers)
        with urllib.request.urlopen(req, timeout=timeout) as answer:
            yield f"content-type: {answer.headers['Content-Type']}"
            for raw in answer:
                yield raw.decode().rstrip("\r\n")
