"""OpenAI legacy Completions (`/v1/completions`), client-facing: a prompt in, `text_completion` out.

A completion is a chat with one user turn, so this lives beside the chat codec and reuses its
usage, stop sequences, errors and stream endings. Ignored: suffix, logprobs, logit_bias,
penalties, seed. Thinking is never shown: the shape has no place for it.
"""

from __future__ import annotations

from typing import Any

from antigravity_gateway.core.events import Event, Finish, PartStart, Start, TextDelta
from antigravity_gateway.core.messages import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    Media,
    Message,
    Text,
)
from antigravity_gateway.errors import InvalidRequest
from antigravity_gateway.protocols import fields

from . import wire
from .inbound import ChunkStream, decode_stop, encode_usage, visible_text, wants_usage

_FINISH: dict[FinishReason, wire.CompletionFinish] = {
    "length": "length",
    "content_filter": "content_filter",
}


def decode_request(body: Any) -> ChatRequest:
    """A `/v1/completions` body -> ChatRequest with the prompt as the only user turn."""
    if not isinstance(body, dict):
        raise InvalidRequest(f"request body must be a JSON object, got {fields.kind(body)}")
    model = fields.string(body.get("model"), "model", nonempty=True)
    for key in ("n", "best_of"):
        if (count := fields.opt_int(body, key, minimum=1)) is not None and count > 1:
            raise InvalidRequest(f"{key} > 1 is not supported", path=key)
    wants_usage(body)  # validates stream_options
    fields.opt_bool(body, "echo")
    prompt = decode_prompt(body.get("prompt"))
    return ChatRequest(
        model=model,
        messages=(Message(role="user", parts=(Text(text=prompt),)),),
        max_tokens=fields.opt_int(body, "max_tokens", minimum=1),
        temperature=fields.opt_number(body, "temperature", low=0, high=2),
        top_p=fields.opt_number(body, "top_p", low=0, high=1),
        stop=decode_stop(body.get("stop")),
        stream=bool(fields.opt_bool(body, "stream")),
        session_key=fields.opt_string(body, "user") or "",
    )


def decode_prompt(value: object) -> str:
    """A string, or an array holding one; token-array and batched prompts are a 400."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
        if not isinstance(value, str):
            raise InvalidRequest("token-array prompts are not supported; send text", path="prompt")
    elif isinstance(value, list):
        raise InvalidRequest(
            "send one prompt per request (batched prompts are not supported)", path="prompt"
        )
    prompt = fields.string(value, "prompt")
    if not prompt.strip():
        raise InvalidRequest("must not be empty", path="prompt")
    return prompt


def echo_of(body: dict[str, Any]) -> str:
    """The text `echo: true` puts before the completion: the prompt itself."""
    return decode_prompt(body.get("prompt")) if body.get("echo") is True else ""


def encode_response(
    resp: ChatResponse, *, model: str, created: int, echo: str = ""
) -> wire.TextCompletion:
    text = "".join(visible_text(p) for p in resp.parts if isinstance(p, Text | Media))
    choice: wire.TextChoice = {
        "text": echo + text,
        "index": 0,
        "logprobs": None,
        "finish_reason": _FINISH.get(resp.finish_reason, "stop"),
    }
    return {
        "id": resp.id,
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": encode_usage(resp.usage),
    }


class StreamEncoder(ChunkStream):
    """Hub events -> `text_completion` SSE chunks (text only), a finish chunk, `[DONE]`."""

    def __init__(
        self, *, id: str, model: str, created: int, include_usage: bool, echo: str = ""
    ) -> None:
        super().__init__(
            id=id, object="text_completion", created=created, model=model, usage=include_usage
        )
        self._echo = echo

    def feed(self, event: Event) -> list[bytes]:
        if self._done:
            return []
        match event:
            case Start() if self._echo:
                return [self._chunk(self._echo)]
            case PartStart(kind="media", media=Media() as media):
                return [self._chunk(visible_text(media))]
            case TextDelta(text=text) if text:
                return [self._chunk(text)]
            case Finish(reason=reason, usage=usage):
                return self._end(self._chunk("", _FINISH.get(reason, "stop")), usage)
        return []

    def _chunk(self, text: str, finish_reason: str | None = None) -> bytes:
        choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason}
        return self._choice(choice)
