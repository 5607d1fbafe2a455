"""Running a vision tool: check its arguments, ask z.ai's vision chat model, return the answer text.

Images and videos are passed to z.ai as http(s) URLs or data URLs, as the reference server does;
z.ai fetches URLs itself, so the gateway makes no outbound request to an address a client chose,
and it never reads local files (the reference's stdio server could; a network server must not).
Every failure is a `ToolFailure`, which the server turns into an MCP tool error (`isError`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aiohttp
import msgspec

from ..settings import Settings
from .vision_tools import IMAGE, VisionTool

VISION_MODEL = "glm-4.6v"  # reference §10.4
CHAT_PATH = "/api/paas/v4/chat/completions"
TIMEOUT = aiohttp.ClientTimeout(total=300, sock_connect=15)  # reference: 300 s for z.ai/MCP calls
_DATA_URL = re.compile(r"data:(?P<kind>image|video)/[\w.+-]+;base64,[A-Za-z0-9+/=\s]+", re.ASCII)


class ToolFailure(Exception):
    """A tool call that cannot be answered: the message is shown to the model as the tool result."""


def media_part(argument: str, kind: str, source: Any) -> dict[str, Any]:
    if not isinstance(source, str) or not source.strip():
        raise ToolFailure(f"'{argument}' is required: an http(s) URL or a data URL")
    source = source.strip()
    if source.startswith("data:"):
        match = _DATA_URL.fullmatch(source)
        if match is None or match["kind"] != kind:
            raise ToolFailure(f"'{argument}' is not a base64 data URL of an {kind}")
    elif not source.startswith(("http://", "https://")):
        raise ToolFailure(
            f"'{argument}' must be an http(s) URL or a data URL "
            "(the gateway does not read local files)"
        )
    field = "image_url" if kind == IMAGE else "video_url"
    return {"type": field, field: {"url": source}}


def build_request(tool: VisionTool, arguments: dict[str, Any]) -> dict[str, Any]:
    """The z.ai chat completion body for one call of `tool` (OpenAI chat format)."""
    prompt = arguments.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ToolFailure("'prompt' is required: say what to find out about the media")
    parts = [media_part(arg, kind, arguments.get(arg)) for arg, kind, _ in tool.media]
    notes = [f"{name}: {arguments[name]}" for name, _ in tool.extras if arguments.get(name)]
    text = "\n".join([prompt.strip(), *notes])
    return {
        "model": VISION_MODEL,
        "messages": [
            {"role": "system", "content": tool.instruction},
            {"role": "user", "content": [*parts, {"type": "text", "text": text}]},
        ],
        "stream": False,
    }


class VisionBackend:
    """Calls z.ai's chat completions with the current settings' key and base URL."""

    def __init__(self, settings: Callable[[], Settings], http: aiohttp.ClientSession) -> None:
        self._settings = settings
        self._http = http

    async def run(self, tool: VisionTool, arguments: dict[str, Any]) -> str:
        body = build_request(tool, arguments)
        zai = self._settings().zai
        url = zai.base_url.rstrip("/") + CHAT_PATH
        headers = {"Authorization": f"Bearer {zai.api_key}"}
        try:
            async with self._http.post(url, json=body, headers=headers, timeout=TIMEOUT) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ToolFailure(f"z.ai is unreachable ({url}): {exc or type(exc).__name__}") from exc
        if status >= 400:
            detail = raw[:500].decode(errors="replace")
            raise ToolFailure(f"z.ai answered HTTP {status}: {detail}")
        return answer_text(raw)


def answer_text(raw: bytes) -> str:
    """The assistant text of a chat completion; a `ToolFailure` when there is none."""
    try:
        content = msgspec.json.decode(raw)["choices"][0]["message"]["content"]
    except (msgspec.DecodeError, RecursionError, KeyError, IndexError, TypeError) as exc:
        raise ToolFailure(f"z.ai sent an answer without a message ({exc})") from exc
    if isinstance(content, list):  # content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str) or not content.strip():
        raise ToolFailure("z.ai sent an empty answer")
    return content
