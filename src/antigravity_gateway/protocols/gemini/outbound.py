"""Hub <-> Gemini `GenerateContentRequest` / `GenerateContentResponse` (the inner v1internal body).

`encode_request` builds the `request` object; the provider adds the envelope (project, model,
requestId, userAgent, requestType, sessionId) and strips `{"response": ...}` from each chunk
before `StreamDecoder.feed`. Pure: ids arrive as arguments. Family facts live in families.py,
signature policy in contents.py, schema cleaning in schema.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import msgspec
from msgspec.structs import replace

from antigravity_gateway.core.events import (
    Event,
    Finish,
    PartEnd,
    PartKind,
    PartStart,
    Start,
    TextDelta,
    ThinkingDelta,
    ToolArgsDelta,
)
from antigravity_gateway.core.messages import (
    ChatRequest,
    Family,
    FinishReason,
    Media,
    Reasoning,
    Signature,
    Tool,
    ToolChoice,
    Usage,
)
from antigravity_gateway.errors import InvalidRequest, UpstreamError

from . import grounding, modes, wire
from .contents import encode_contents, encode_system, loop_opens_signed
from .families import EFFORT_BUDGET, LEVELS, ModelSpec, spec_for
from .modes import request_type
from .schema import PLACEHOLDER, clean_schema, function_parameters

__all__ = ["StreamDecoder", "decode_response", "encode_request", "request_type"]

_MODES: dict[str, wire.CallingMode] = {"auto": "AUTO", "none": "NONE", "required": "ANY"}
_FORCING = ("required", "tool")  # Anthropic: thinking is incompatible with forced tool use


def encode_request(req: ChatRequest, *, model: str) -> wire.GenerateContentRequest:
    """The request for upstream model id `model`, shaped for its family (see families.py).

    Thinking: Claude takes a budget (effort -> EFFORT_BUDGET, at least 1024, and maxOutputTokens
    is raised to budget + the asked maximum when it would not exceed the budget); Gemini 3 takes
    an effort as `thinkingLevel` (rounded up to a level the model accepts; "none" -> its lowest)
    and an explicit budget as `thinkingBudget`; Gemini 2.x takes budgets only ("none" -> 0);
    GPT-OSS gets no thinkingConfig. `maxOutputTokens` is capped to the family maximum. Claude is
    sent without thinking when a tool call is forced, or when the active tool loop does not open
    with a signed thinking part (both are a 400 upstream).
    """
    spec = spec_for(model)
    body: wire.GenerateContentRequest = {"contents": encode_contents(req.messages, spec.family)}
    if not body["contents"]:
        raise InvalidRequest("the conversation has no user or assistant content to send")
    if system := encode_system(req.system):
        body["systemInstruction"] = system
    if req.tools:
        body["tools"] = [{"functionDeclarations": [_declaration(t, spec) for t in req.tools]}]
        if config := _tool_config(req.tool_choice, spec.family):
            body["toolConfig"] = config
    forced = bool(req.tools) and req.tool_choice is not None and req.tool_choice.mode in _FORCING
    if spec.family == "claude" and (forced or not loop_opens_signed(body["contents"])):
        # Claude cannot think here (docs/upstream.md §8)
        req = replace(req, reasoning=Reasoning(effort="none"))
    if generation := _generation_config(req, spec):
        body["generationConfig"] = generation
    _add_passthrough(body, req.passthrough.get("gemini"))
    modes.apply(body, req, model)
    return body


def encode_count_contents(req: ChatRequest, *, model: str) -> list[dict[str, Any]]:
    """What countTokens should count: it takes only `contents`, so the system prompt and the
    tools go first as one more user turn."""
    body: dict[str, Any] = dict(encode_request(req, model=model))
    contents = [*body.get("contents", [])]
    extra = [*(body.get("systemInstruction") or {}).get("parts", [])]
    if body.get("tools"):
        extra.append({"text": msgspec.json.encode(body["tools"]).decode()})
    if extra:
        contents.insert(0, {"role": "user", "parts": extra})
    return contents


def _add_passthrough(body: wire.GenerateContentRequest, native: dict[str, Any] | None) -> None:
    """Gemini-native fields a Gemini client sent that the hub has no place for (see inbound.py):
    safetySettings, non-function tools, and generationConfig keys such as seed."""
    if not native:
        return
    if settings := native.get("safetySettings"):
        body["safetySettings"] = settings
    if tools := native.get("tools"):
        body["tools"] = [*body.get("tools", []), *tools]
    if extra := native.get("generationConfig"):
        body["generationConfig"] = cast(
            wire.GenerationConfig, {**extra, **body.get("generationConfig", {})}
        )


def _declaration(tool: Tool, spec: ModelSpec) -> wire.FunctionDeclaration:
    declaration: wire.FunctionDeclaration = {"name": tool.name}
    if tool.description:
        declaration["description"] = tool.description
    params = function_parameters(tool.parameters, placeholder=spec.family == "claude")
    if params is not None:
        declaration["parameters"] = params
    return declaration


def _tool_config(choice: ToolChoice | None, family: Family) -> wire.ToolConfig | None:
    if choice is None:  # Claude clients all send VALIDATED (docs/upstream.md §3.2)
        return {"functionCallingConfig": {"mode": "VALIDATED"}} if family == "claude" else None
    if choice.mode == "tool":
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [choice.name]}}
    return {"functionCallingConfig": {"mode": _MODES[choice.mode]}}


def _generation_config(req: ChatRequest, spec: ModelSpec) -> wire.GenerationConfig:
    config: wire.GenerationConfig = {}
    if req.temperature is not None:
        config["temperature"] = req.temperature
    if req.top_p is not None:
        config["topP"] = req.top_p
    if req.top_k is not None:
        config["topK"] = req.top_k
    limit = None if req.max_tokens is None else min(req.max_tokens, spec.max_output)
    thinking, limit = _thinking(req.reasoning, spec, limit)
    if limit is not None:
        config["maxOutputTokens"] = limit
    if req.stop:
        config["stopSequences"] = list(req.stop)
    if req.json_schema is not None:
        config["responseMimeType"] = "application/json"
        if req.json_schema:
            # $ref, $defs, const, ... are a 400 upstream (docs/upstream.md §7.2)
            config["responseJsonSchema"] = clean_schema(req.json_schema)
    if thinking is not None:
        config["thinkingConfig"] = thinking
    return config


def _thinking(
    reasoning: Reasoning | None, spec: ModelSpec, limit: int | None
) -> tuple[wire.ThinkingConfig | None, int | None]:
    """The thinkingConfig for `spec`, and maxOutputTokens (possibly raised for Claude)."""
    if reasoning is None and spec.default_budget:
        reasoning = Reasoning()
    if reasoning is None or spec.thinking == "none":
        return None, limit
    config: wire.ThinkingConfig = {"includeThoughts": reasoning.include_thoughts}
    if spec.thinking == "level" and reasoning.budget is None:
        if reasoning.effort is not None:
            config["thinkingLevel"] = _level(reasoning.effort, spec.levels)
        return config, limit
    budget = _budget(reasoning, spec)
    if budget is None:
        return config, limit
    if spec.family != "claude":
        config["thinkingBudget"] = budget
        return (config if budget else {"thinkingBudget": 0}), limit
    if budget == 0:
        return None, limit  # Claude: no thinking at all
    # Claude: 1024 <= budget < maxOutputTokens (docs/upstream.md §7.2)
    limit = limit or spec.max_output
    if budget >= limit:
        limit = min(budget + limit, spec.max_output)
    config["thinkingBudget"] = min(budget, limit - 1)
    return config, limit


def _budget(reasoning: Reasoning, spec: ModelSpec) -> int | None:
    """Explicit budget, else the effort's, else the model default; None = let upstream decide."""
    if reasoning.budget is not None and reasoning.budget >= 0:
        budget = reasoning.budget
    elif reasoning.effort == "none":
        return 0
    elif reasoning.effort is not None:
        budget = EFFORT_BUDGET[reasoning.effort]
    elif spec.family == "claude":  # Claude needs an explicit budget to think at all
        budget = spec.default_budget or EFFORT_BUDGET["medium"]
    else:
        return None
    budget = max(budget, spec.min_budget) if budget else 0
    return min(budget, spec.max_budget) if spec.max_budget else budget


def _level(effort: str, accepted: tuple[str, ...]) -> str:
    wanted = LEVELS.index("minimal" if effort == "none" else effort)
    return next((lvl for lvl in LEVELS[wanted:] if lvl in accepted), accepted[-1])


# Gemini finishReason -> hub; anything else (OTHER, FINISH_REASON_UNSPECIFIED, none) is "stop".
_FINISH: dict[str, FinishReason] = {
    "MAX_TOKENS": "length",
    **dict.fromkeys(
        ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
         "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "PROMPT_BLOCKED"),
        "content_filter",
    ),
    **dict.fromkeys(
        ("MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL", "TOO_MANY_TOOL_CALLS", "LANGUAGE"),
        "error",
    ),
}  # fmt: skip


@dataclass(slots=True)
class _Open:
    """The part being built: it stays open so a later signature-only part can still sign it."""

    index: int
    kind: PartKind
    signature: Signature | None = None
    sealed: bool = False  # signed after content: more text of the same kind starts a new part


class StreamDecoder:
    """Unwrapped GenerateContentResponse chunks in, hub events out; `close()` ends the stream.

    Consecutive same-kind text merges into one part; each functionCall is its own part (id from
    upstream, else `call_<responseId>_<n>`); a signature on an empty-text part signs the open part,
    else the next one, else an empty thinking part. Finish comes from `close()`, since usage may
    arrive after finishReason. Only the first candidate is read.
    """

    def __init__(self, *, response_id: str = "", model: str = "") -> None:
        self._id, self._model = response_id, model
        self._family: Family = spec_for(model).family
        self._started = self._closed = False
        self._open: _Open | None = None
        self._next = self._calls = 0
        self._pending: Signature | None = None
        self._reason = ""
        self._usage = Usage()
        self._grounding: dict[str, Any] = {}
        self._visible: list[str] = []  # the answer's text, for grounding offsets

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        if self._closed or not isinstance(chunk, dict):
            return []
        if isinstance(error := chunk.get("error"), dict):
            raise _upstream_error(error, chunk)
        events: list[Event] = [] if self._started else [self._start(chunk)]
        if isinstance(usage := chunk.get("usageMetadata"), dict):
            self._usage = _usage(usage)
        if isinstance(feedback := chunk.get("promptFeedback"), dict) and feedback.get(
            "blockReason"
        ):
            self._reason = "PROMPT_BLOCKED"
        match chunk.get("candidates"):
            case [dict() as candidate, *_]:
                match candidate.get("content"):
                    case {"parts": list() as parts}:
                        for part in parts:
                            events += self._part(part) if isinstance(part, dict) else []
                if isinstance(reason := candidate.get("finishReason"), str):
                    self._reason = reason
                if isinstance(meta := candidate.get("groundingMetadata"), dict) and meta:
                    self._grounding = meta
        return events

    def close(self) -> list[Event]:
        if self._closed:
            return []
        events: list[Event] = [] if self._started else [self._start({})]
        self._closed = True
        events += self._end_open()
        if self._pending is not None:  # a signature nothing could carry: an empty thinking part
            events += [PartStart(index=self._next, kind="thinking")]
            events += [PartEnd(index=self._next, signature=self._pending)]
        reason = _FINISH.get(self._reason, "stop")
        if reason == "stop" and self._calls:
            reason = "tool_use"
        found = (
            grounding.decode(self._grounding, "".join(self._visible)) if self._grounding else None
        )
        return [*events, Finish(reason=reason, usage=self._usage, grounding=found)]

    def _start(self, chunk: dict[str, Any]) -> Start:
        self._started = True
        if isinstance(rid := chunk.get("responseId"), str) and rid:
            self._id = rid
        model = chunk.get("modelVersion")
        if isinstance(model, str) and model and not self._model:
            self._family = spec_for(model).family
        return Start(id=self._id, model=model if isinstance(model, str) and model else self._model)

    def _part(self, part: dict[str, Any]) -> list[Event]:
        sig = part.get("thoughtSignature") or part.get("thought_signature")
        signature = Signature(value=sig, family=self._family) if isinstance(sig, str) else None
        match part:
            case {"functionCall": dict() as call}:
                return self._call(call, signature)
            case {"text": str() as text}:
                return self._text(text, part.get("thought") is True, signature)
            case {"inlineData": {"mimeType": str() as mime, "data": str() as data}}:
                return self._media(Media(mime=mime, data=data))
            case {"fileData": {"fileUri": str() as uri}}:
                mime = part["fileData"].get("mimeType")
                return self._media(Media(mime=mime if isinstance(mime, str) else "", url=uri))
        return self._text("", False, signature)  # unknown payloads are skipped

    def _text(self, text: str, thought: bool, signature: Signature | None) -> list[Event]:
        if not text:
            if signature is None:
                return []
            if self._open is not None and self._open.signature is None:
                self._open.signature, self._open.sealed = signature, True
            else:
                self._pending = signature
            return []
        kind: PartKind = "thinking" if thought else "text"
        current, events = self._open, []
        if current is None or current.kind != kind or current.sealed:
            events = self._begin(PartStart(index=self._next, kind=kind))
            current = self._open
        assert current is not None
        delta = ThinkingDelta if thought else TextDelta
        if not thought:
            self._visible.append(text)
        events.append(delta(index=current.index, text=text))
        if signature is not None:
            current.signature, current.sealed = signature, True
        return events

    def _call(self, call: dict[str, Any], signature: Signature | None) -> list[Event]:
        name = call.get("name")
        raw_args = call.get("args")
        args = raw_args if isinstance(raw_args, dict) else {}
        args = {k: v for k, v in args.items() if k != PLACEHOLDER}  # see schema.PLACEHOLDER
        call_id = call.get("id")
        if not (isinstance(call_id, str) and call_id):
            call_id = f"call_{self._id}_{self._calls}" if self._id else f"call_{self._calls}"
        self._calls += 1
        start = PartStart(
            index=self._next,
            kind="tool_call",
            tool_id=call_id,
            tool_name=name if isinstance(name, str) else "",
        )
        events = self._begin(start)
        events.append(ToolArgsDelta(index=start.index, json=msgspec.json.encode(args).decode()))
        assert self._open is not None
        self._open.sealed = True
        if signature is not None:
            self._open.signature = signature
        return events

    def _media(self, media: Media) -> list[Event]:
        start, pending = PartStart(index=self._next, kind="media", media=media), self._pending
        events = self._begin(start)
        self._open, self._pending = None, pending  # Media carries no signature: keep it waiting
        return [*events, PartEnd(index=start.index)]

    def _begin(self, start: PartStart) -> list[Event]:
        events = self._end_open()
        self._open = _Open(index=start.index, kind=start.kind, signature=self._pending)
        self._pending = None
        self._next += 1
        return [*events, start]

    def _end_open(self) -> list[Event]:
        current, self._open = self._open, None
        return (
            [] if current is None else [PartEnd(index=current.index, signature=current.signature)]
        )


def decode_response(body: dict[str, Any], *, response_id: str = "", model: str = "") -> list[Event]:
    """A whole (non-stream) GenerateContentResponse as one event stream."""
    decoder = StreamDecoder(response_id=response_id, model=model)
    return decoder.feed(body) + decoder.close()


def _usage(meta: dict[str, Any]) -> Usage:
    def count(key: str) -> int:
        value = meta.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    thoughts = count("thoughtsTokenCount")
    return Usage(
        input_tokens=count("promptTokenCount"),
        output_tokens=count("candidatesTokenCount") + thoughts,
        reasoning_tokens=thoughts,
        cached_tokens=count("cachedContentTokenCount"),
    )


def _upstream_error(error: dict[str, Any], chunk: dict[str, Any]) -> UpstreamError:
    """An error object inside a 200 stream (errors are exceptions, never events)."""
    code = error.get("code")
    status = code if isinstance(code, int) and 400 <= code <= 599 else 502
    message = error.get("message")
    body = msgspec.json.encode(chunk).decode()
    return UpstreamError(status, body, message=message if isinstance(message, str) else "")
