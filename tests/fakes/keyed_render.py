"""Answers of the API-key upstream fakes, rendered the way each real service streams them.

`Answer` is kind-neutral (thinking, text, one tool call); `anthropic_sse`, `openai_sse` and
`gemini_sse` write it as Anthropic Messages SSE (message_start, content blocks with
thinking_delta + signature_delta, input_json_delta, message_delta, message_stop), OpenAI chat
completion chunks (tool_calls fragments, a usage chunk when asked, `[DONE]`) and Gemini
GenerateContentResponse chunks. Each text piece is split in two to exercise the decoders.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Answer:
    text: str = ""
    thinking: str = ""
    tool: tuple[str, dict[str, Any]] | None = None
    # a fault instead: the status, its JSON body and headers; `garbage` sends a 200 of HTML
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    garbage: bool = False


def say(text: str, *, thinking: str = "") -> Answer:
    return Answer(text=text, thinking=thinking)


def call_tool(name: str, args: dict[str, Any], *, thinking: str = "", text: str = "") -> Answer:
    return Answer(tool=(name, args), thinking=thinking, text=text)


def fault(status: int, message: str = "upstream fault", *, retry_after: float | None = None,
          body: Any = None) -> Answer:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    return Answer(status=status, headers=headers,
                  body=body or {"error": {"message": message, "type": "fault", "code": status}})


def garbage() -> Answer:
    return Answer(garbage=True)


def halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [piece for piece in (text[:middle], text[middle:]) if piece]


def sse(event: str | None, payload: Any) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(payload)}\n\n".encode()


def anthropic_sse(answer: Answer, *, model: str, n: int, signature: str,
                  input_tokens: int) -> list[bytes]:
    message = {"id": f"msg_fake{n}", "type": "message", "role": "assistant", "model": model,
               "content": [], "stop_reason": None, "stop_sequence": None,
               "usage": {"input_tokens": input_tokens, "output_tokens": 1,
                         "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}
    frames = [sse("message_start", {"type": "message_start", "message": message}),
              sse("ping", {"type": "ping"})]
    index = 0

    def block(start: dict[str, Any], deltas: list[dict[str, Any]]) -> None:
        nonlocal index
        frames.append(sse("content_block_start", {"type": "content_block_start", "index": index,
                                                  "content_block": start}))
        for delta in deltas:
            frames.append(sse("content_block_delta", {"type": "content_block_delta",
                                                      "index": index, "delta": delta}))
        frames.append(sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1

    if answer.thinking:
        block({"type": "thinking", "thinking": "", "signature": ""},
              [{"type": "thinking_delta", "thinking": p} for p in halves(answer.thinking)]
              + [{"type": "signature_delta", "signature": signature}])
    if answer.text:
        block({"type": "text", "text": ""},
              [{"type": "text_delta", "text": p} for p in halves(answer.text)])
    if answer.tool:
        name, args = answer.tool
        block({"type": "tool_use", "id": f"toolu_fake{n}", "name": name, "input": {}},
              [{"type": "input_json_delta", "partial_json": p} for p in halves(json.dumps(args))])
    reason = "tool_use" if answer.tool else "end_turn"
    frames.append(sse("message_delta", {"type": "message_delta",
                                        "delta": {"stop_reason": reason, "stop_sequence": None},
                                        "usage": {"output_tokens": 7}}))
    frames.append(sse("message_stop", {"type": "message_stop"}))
    return frames


def openai_sse(answer: Answer, *, model: str, n: int, usage: bool,
               input_tokens: int) -> list[bytes]:
    def chunk(delta: dict[str, Any], reason: str | None = None) -> bytes:
        return sse(None, {"id": f"chatcmpl-fake{n}", "object": "chat.completion.chunk",
                          "created": 1_700_000_000, "model": model,
                          "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]})

    frames = [chunk({"role": "assistant", "content": ""})]
    frames += [chunk({"reasoning_content": p}) for p in halves(answer.thinking)]
    frames += [chunk({"content": p}) for p in halves(answer.text)]
    if answer.tool:
        name, args = answer.tool
        frames.append(chunk({"tool_calls": [{"index": 0, "id": f"call_fake{n}", "type": "function",
                                             "function": {"name": name, "arguments": ""}}]}))
        frames += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]})
                   for p in halves(json.dumps(args))]
    frames.append(chunk({}, "tool_calls" if answer.tool else "stop"))
    if usage:
        frames.append(sse(None, {"id": f"chatcmpl-fake{n}", "object": "chat.completion.chunk",
                                 "created": 1_700_000_000, "model": model, "choices": [],
                                 "usage": {"prompt_tokens": input_tokens, "completion_tokens": 7,
                                           "total_tokens": input_tokens + 7}}))
    return [*frames, b"data: [DONE]\n\n"]


def gemini_sse(answer: Answer, *, model: str, n: int, signature: str,
               input_tokens: int) -> list[bytes]:
    def chunk(parts: list[dict[str, Any]], **extra: Any) -> bytes:
        candidate = {"content": {"role": "model", "parts": parts}, "index": 0}
        return sse(None, {"candidates": [{**candidate, **extra.pop("candidate", {})}],
                          "modelVersion": model, "responseId": f"fake{n}", **extra})

    frames = [chunk([{"text": p, "thought": True}]) for p in halves(answer.thinking)]
    frames += [chunk([{"text": p}]) for p in halves(answer.text)]
    if answer.tool:
        name, args = answer.tool
        frames.append(chunk([{"functionCall": {"name": name, "args": args},
                              "thoughtSignature": signature}]))
    usage = {"promptTokenCount": input_tokens, "candidatesTokenCount": 7,
             "totalTokenCount": input_tokens + 7}
    frames.append(chunk([{"text": ""}], candidate={"finishReason": "STOP"}, usageMetadata=usage))
    return frames
