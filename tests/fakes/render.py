"""Render a `Reply` into Google's v1internal response envelopes (docs/upstream.md §4).

`stream_events()` gives one envelope dict per SSE event (deltas, signatures, running usage, final
finishReason); `unary_body()` the assembled `generateContent` answer. Pure apart from the
injected id generator and signature book. Deliberately no framing: the server makes bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.fakes import grounding
from tests.fakes.catalogue import ModelSpec
from tests.fakes.defaults import count_tokens, estimate_tokens
from tests.fakes.ids import Ids
from tests.fakes.scripts import Content, RawPart, Reply, Text, Thinking, ToolCall
from tests.fakes.signatures import SignatureBook


@dataclass(frozen=True)
class RenderContext:
    spec: ModelSpec
    email: str | None
    ids: Ids
    signatures: SignatureBook
    trace_id: str
    text_chunks: int = 2
    gemini_call_ids: bool = False


@dataclass(frozen=True)
class Logical:
    """One whole response part before streaming splits its text into deltas."""

    part: dict[str, Any]
    chunks: int = 1
    trailing_signature: bool = False


def logical_parts(content: tuple[Content, ...], ctx: RenderContext) -> list[Logical]:
    out: list[Logical] = []
    first_call = True
    for piece in content:
        if isinstance(piece, Text):
            out.append(Logical({"text": piece.text}, piece.chunks or ctx.text_chunks))
        elif isinstance(piece, Thinking):
            part = _signed(
                {"text": piece.text, "thought": True}, piece.signature, ctx.spec.is_claude, ctx
            )
            out.append(Logical(part, piece.chunks or ctx.text_chunks))
        elif isinstance(piece, ToolCall):
            auto = ctx.spec.family == "gemini3" and first_call
            out.append(Logical(_signed(_function_call(piece, ctx), piece.signature, auto, ctx)))
            first_call = False
        elif isinstance(piece, RawPart):
            out.append(Logical(dict(piece.part)))
    if ctx.spec.family == "gemini3" and first_call and content:
        out.append(
            Logical(
                {"thoughtSignature": ctx.signatures.issue(ctx.spec, ctx.email), "text": ""},
                trailing_signature=True,
            )
        )
    return out


def _signed(
    part: dict[str, Any], signature: str | bool, auto: bool, ctx: RenderContext
) -> dict[str, Any]:
    if isinstance(signature, str):
        part["thoughtSignature"] = signature
    elif signature and auto:
        part["thoughtSignature"] = ctx.signatures.issue(ctx.spec, ctx.email)
    return part


def _function_call(piece: ToolCall, ctx: RenderContext) -> dict[str, Any]:
    call: dict[str, Any] = {"name": piece.name, "args": piece.args}
    call_id = piece.id
    if call_id is None and ctx.spec.is_claude:
        call_id = ctx.ids.claude_tool_id()
    elif call_id is None and ctx.gemini_call_ids:
        call_id = ctx.ids.gemini_call_id()
    if call_id is not None:
        call["id"] = call_id
    return {"functionCall": call}


def split_text(text: str, chunks: int) -> list[str]:
    """`chunks` non-empty consecutive fragments (fewer when the text is shorter)."""
    count = max(1, min(chunks, len(text)))
    cuts = [round(len(text) * k / count) for k in range(count + 1)]
    return [text[cuts[k] : cuts[k + 1]] for k in range(count)]


def _deltas(logical: Logical) -> list[dict[str, Any]]:
    part = logical.part
    if "text" not in part or logical.chunks <= 1 or len(part["text"]) < 2:
        return [part]
    plain = {key: value for key, value in part.items() if key != "thoughtSignature"}
    fragments = split_text(part["text"], logical.chunks)
    deltas = [{**plain, "text": fragment} for fragment in fragments]
    deltas[-1] = {**part, "text": fragments[-1]}
    return deltas


def _tokens(part: dict[str, Any]) -> tuple[int, int]:
    """(candidates, thoughts) token estimate of one part."""
    if "text" in part:
        size = estimate_tokens(part["text"])
        return (0, size) if part.get("thought") else (size, 0)
    payload = part.get("functionCall") or part.get("inlineData") or part
    return estimate_tokens(json.dumps(payload, sort_keys=True)), 0


class Renderer:
    """Renders one reply for one request; keeps the running token totals."""

    def __init__(
        self,
        reply: Reply,
        request: dict[str, Any],
        ctx: RenderContext,
        content: tuple[Content, ...],
    ) -> None:
        self.reply, self.ctx = reply, ctx
        self.logical = [] if reply.empty else logical_parts(content, ctx)
        self.prompt = (
            reply.usage.prompt if reply.usage.prompt is not None else count_tokens(request)
        )
        self.response_id = (
            ctx.ids.claude_message_id() if ctx.spec.is_claude else ctx.ids.gemini_response_id()
        )
        self.model_version = reply.model_version or ctx.spec.model_version or ctx.spec.id
        answer = "".join(
            str(lg.part.get("text", "")) for lg in self.logical if not lg.part.get("thought")
        )
        self.grounding = (
            grounding.metadata(request, answer) if grounding.wants_search(request) else None
        )

    def usage(self, candidates: int, thoughts: int, final: bool) -> dict[str, Any]:
        wanted = self.reply.usage
        if final:
            candidates = wanted.candidates if wanted.candidates is not None else candidates
            thoughts = wanted.thoughts if wanted.thoughts is not None else thoughts
        meta: dict[str, Any] = {"promptTokenCount": self.prompt, "candidatesTokenCount": candidates}
        if thoughts:
            meta["thoughtsTokenCount"] = thoughts
        meta["totalTokenCount"] = self.prompt + candidates + thoughts
        if final and wanted.cached is not None:
            meta["cachedContentTokenCount"] = wanted.cached
        return meta

    def envelope(self, response: dict[str, Any], stream: bool) -> dict[str, Any]:
        response["modelVersion"] = self.model_version
        response["responseId"] = self.response_id
        body: dict[str, Any] = {"response": response, "traceId": self.ctx.trace_id}
        if stream:
            body["metadata"] = {}
        return body

    def candidate(self, parts: list[dict[str, Any]], final: bool) -> dict[str, Any]:
        content: dict[str, Any] = {"role": "model", "parts": parts} if parts else {"role": "model"}
        candidate: dict[str, Any] = {"content": content}
        if final and self.reply.finish.reason:
            candidate["finishReason"] = self.reply.finish.reason
        if final and self.grounding is not None:
            candidate["groundingMetadata"] = self.grounding
        return candidate

    def stream_events(self) -> list[dict[str, Any]]:
        deltas: list[dict[str, Any] | None] = [
            d for logical in self.logical for d in _deltas(logical)
        ] or [None]
        mode = self.reply.usage.mode
        events, candidates, thoughts = [], 0, 0
        for index, delta in enumerate(deltas):
            final = index == len(deltas) - 1
            more_c, more_t = _tokens(delta) if delta else (0, 0)
            candidates, thoughts = candidates + more_c, thoughts + more_t
            response: dict[str, Any] = {
                "candidates": [self.candidate([delta] if delta else [], final)]
            }
            if mode == "every" or (final and mode == "final"):
                response["usageMetadata"] = self.usage(candidates, thoughts, final)
            events.append(self.envelope(response, stream=True))
        if mode == "trailing":
            events.append(
                self.envelope(
                    {"usageMetadata": self.usage(candidates, thoughts, True)}, stream=True
                )
            )
        return events

    def unary_body(self) -> dict[str, Any]:
        parts = [dict(logical.part) for logical in self.logical]
        if (
            len(parts) > 1
            and self.logical[-1].trailing_signature
            and "text" in parts[-2]
            and "thoughtSignature" not in parts[-2]
        ):
            signature = parts.pop()["thoughtSignature"]
            parts[-1]["thoughtSignature"] = signature
        candidates = sum(_tokens(part)[0] for part in parts)
        thoughts = sum(_tokens(part)[1] for part in parts)
        response = {
            "candidates": [self.candidate(parts, True)],
            "usageMetadata": self.usage(candidates, thoughts, True),
        }
        return self.envelope(response, stream=False)
