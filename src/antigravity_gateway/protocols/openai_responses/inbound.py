"""OpenAI Responses API (`/v1/responses`), client-facing: a request -> the hub request plus what
the answer needs (Context); the response object and SSE are in output.py and stream.py.

The caller looks up a previous_response_id's history and passes it in. Settings that need server
state we do not keep (background, conversation, prompt) are a 400; errors use the chat codec's
envelope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from antigravity_gateway.core.messages import (
    ChatRequest,
    ChatResponse,
    Message,
    Reasoning,
    Text,
    ToolCall,
)
from antigravity_gateway.errors import InvalidRequest
from antigravity_gateway.protocols import fields
from antigravity_gateway.protocols.fields import at
from antigravity_gateway.protocols.openai_chat.inbound import decode_effort, encode_error
from antigravity_gateway.protocols.search import wants_search

from .items import InputReader
from .tools import ToolNames, decode_tool_choice, decode_tools

__all__ = ["Context", "History", "ResponsesRequest", "decode_request", "encode_error"]

ENCRYPTED_REASONING = "reasoning.encrypted_content"
_SUMMARIES = ("auto", "concise", "detailed")
# Accepted but ignored: parallel_tool_calls, metadata, truncation, service_tier, text.verbosity,
# top_logprobs, safety_identifier, client_metadata, stream_options. These three are a 400:
_UNSUPPORTED = {
    "background": "background responses are not supported; leave background unset",
    "conversation": "conversations are not supported; send the history in input instead",
    "prompt": "prompt templates are not supported; send instructions and input instead",
}
# Request settings a response object echoes, with OpenAI's defaults.
_ECHO: dict[str, Any] = {
    "instructions": None,
    "max_output_tokens": None,
    "metadata": {},
    "parallel_tool_calls": True,
    "previous_response_id": None,
    "reasoning": {"effort": None, "summary": None},
    "store": True,
    "temperature": None,
    "text": {"format": {"type": "text"}},
    "tool_choice": "auto",
    "tools": [],
    "top_p": None,
    "truncation": "disabled",
    "user": None,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """What a later `previous_response_id` continues: input system texts and the turns so far
    (instructions are not carried over, as at OpenAI)."""

    system: tuple[Text, ...] = ()
    messages: tuple[Message, ...] = ()

    def answered(self, resp: ChatResponse) -> History:
        """This history with the response as the next assistant turn."""
        if not resp.parts:
            return self
        turn = Message(role="assistant", parts=resp.parts)
        return History(system=self.system, messages=(*self.messages, turn))


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What the encoders need besides the hub response."""

    id: str
    created_at: int
    model: str  # as the client named it
    names: ToolNames = ToolNames()
    include_encrypted: bool = False
    summaries: bool = False
    echo: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponsesRequest:
    """A decoded `/v1/responses` body: the hub request plus what storing and answering need."""

    chat: ChatRequest
    history: History  # the conversation including this request's input
    names: ToolNames
    store: bool
    include_encrypted: bool
    summaries: bool
    echo: Mapping[str, Any]

    def context(self, *, id: str, created_at: int) -> Context:
        return Context(
            id=id,
            created_at=created_at,
            model=self.chat.model,
            names=self.names,
            include_encrypted=self.include_encrypted,
            summaries=self.summaries,
            echo=self.echo,
        )


def previous_response_id(body: Any) -> str | None:
    """The id whose history the request continues, if any (validated)."""
    if not isinstance(body, dict) or body.get("previous_response_id") is None:
        return None
    return fields.string(body["previous_response_id"], "previous_response_id", nonempty=True)


def decode_request(body: Any, *, history: History = History()) -> ResponsesRequest:
    """A `/v1/responses` body -> ResponsesRequest; anything malformed -> InvalidRequest(path)."""
    if not isinstance(body, dict):
        raise InvalidRequest(f"request body must be a JSON object, got {fields.kind(body)}")
    model = fields.string(body.get("model"), "model", nonempty=True)
    for key, why in _UNSUPPORTED.items():
        if body.get(key) not in (None, False):
            raise InvalidRequest(why, path=key)
    tools, names = decode_tools(body.get("tools"))
    conversation = _conversation(body.get("input", []), history)
    instructions = fields.opt_string(body, "instructions")
    reasoning = fields.obj(body.get("reasoning") or {}, "reasoning")
    chat = ChatRequest(
        model=model,
        messages=conversation.messages,
        system=(*([Text(text=instructions)] if instructions else []), *conversation.system),
        tools=tools,
        tool_choice=decode_tool_choice(body.get("tool_choice"), tools),
        max_tokens=fields.opt_int(body, "max_output_tokens", minimum=1),
        temperature=fields.opt_number(body, "temperature", low=0, high=2),
        top_p=fields.opt_number(body, "top_p", low=0, high=1),
        reasoning=_reasoning(reasoning),
        json_schema=_json_schema(body.get("text")),
        stream=bool(fields.opt_bool(body, "stream")),
        session_key=fields.opt_string(body, "prompt_cache_key")
        or fields.opt_string(body, "user")
        or "",
        web_search=wants_search(body.get("tools")),
    )
    return ResponsesRequest(
        chat=chat,
        history=conversation,
        names=names,
        store=fields.opt_bool(body, "store") is not False,
        include_encrypted=ENCRYPTED_REASONING in _include(body.get("include")),
        summaries=_summaries(reasoning),
        echo={key: _echoed(key, body.get(key)) for key in _ECHO},
    )


def _conversation(value: object, history: History) -> History:
    """The history followed by this request's input items."""
    reader = InputReader(_calls(history.messages))
    reader.read(value)
    return History(
        system=(*history.system, *reader.system),
        messages=(*history.messages, *reader.messages),
    )


def _echoed(key: str, value: object) -> Any:
    """The setting as the client sent it, over OpenAI's default (objects merged one level)."""
    default = _ECHO[key]
    if value is None:
        return default
    if isinstance(default, dict) and default and isinstance(value, dict):
        return {**default, **value}
    return value


def _calls(messages: tuple[Message, ...]) -> dict[str, str]:
    """call id -> tool name for every tool call in the history."""
    return {p.id: p.name for m in messages for p in m.parts if isinstance(p, ToolCall)}


def _include(value: object) -> list[str]:
    if value is None:
        return []
    values = fields.array(value, "include")
    return [fields.string(v, at("include", i)) for i, v in enumerate(values)]


def _reasoning(reasoning: dict[str, Any]) -> Reasoning | None:
    """The effort; asking for a summary alone still asks the upstream for its thoughts."""
    effort = decode_effort(reasoning.get("effort"), "reasoning.effort")
    return Reasoning() if effort is None and _summaries(reasoning) else effort


def _summaries(reasoning: dict[str, Any]) -> bool:
    summary = reasoning.get("summary", reasoning.get("generate_summary"))
    if summary is None or summary == "none":
        return False
    if summary in _SUMMARIES:
        return True
    raise InvalidRequest(
        f"must be one of {', '.join(_SUMMARIES)} or none", path="reasoning.summary"
    )


def _json_schema(text: object) -> dict[str, Any] | None:
    if text is None:
        return None
    match fields.obj(text, "text").get("format"):
        case None | {"type": "text"}:
            return None
        case {"type": "json_object"}:
            return {}
        case {"type": "json_schema"} as fmt:
            schema = fmt.get("schema")
            return {} if schema is None else fields.obj(schema, "text.format.schema")
        case dict():
            raise InvalidRequest(
                'must be "text", "json_object" or "json_schema"', path="text.format.type"
            )
        case other:
            raise InvalidRequest(f"must be an object, got {fields.kind(other)}", path="text.format")
