"""Claude Code's side traffic, recognised on the hub request: warmups and background tasks.

A warmup (its keep-alive "Warmup" turn) is answered locally with "OK"; a background task (a
title, a summary, prompt suggestions) goes to the cheap model behind the mapping key
`internal-background-task`. The markers are Antigravity Tools' (docs/upstream.md §10.4).
Pure checks: the handler decides what to do with the answer.
"""

from __future__ import annotations

from msgspec.structs import replace

from antigravity_gateway.core.messages import (
    ChatRequest,
    ChatResponse,
    Message,
    Reasoning,
    Text,
    Thinking,
    ToolResult,
    Usage,
)

BACKGROUND_MODEL = "internal-background-task"
WARMUP_REPLY = "OK"
_BACKGROUND_MARKERS = (
    "This is a system message",
    # titles
    "write a 5-10 word title",
    "Respond with the title",
    "Generate a title for",
    "Create a brief title",
    "title for the conversation",
    "conversation title",
    "生成标题",
    "为对话起个标题",
    # summaries
    "Summarize this coding conversation",
    "Summarize the conversation",
    "Concise summary",
    "in under 50 characters",
    "compress the context",
    "Provide a concise summary",
    "condense the previous messages",
    "shorten the conversation history",
    "extract key points from",
    # prompt suggestions
    "prompt suggestion generator",
    "suggest next prompts",
    "what should I ask next",
    "generate follow-up questions",
    "recommend next steps",
    "possible next actions",
    # environment probes
    "check current directory",
    "list available tools",
    "verify environment",
    "test connection",
)
_BACKGROUND_MAX_CHARS = 800  # a longer last message is real work, whatever it says
_BACKGROUND_HEAD = 500  # markers are looked for at the start only


def is_warmup(req: ChatRequest) -> bool:
    """Only the last message counts: a "Warmup" text, or an error tool_result saying it."""
    last = req.messages[-1]
    if last.role != "user":
        return False
    for part in last.parts:
        if isinstance(part, Text) and _says_warmup(part.text):
            return True
        if isinstance(part, ToolResult) and part.is_error and _failed_warmup(part):
            return True
    return False


def _failed_warmup(result: ToolResult) -> bool:
    return any(isinstance(p, Text) and p.text.strip().startswith("Warmup") for p in result.content)


def _says_warmup(text: str) -> bool:
    """Stricter than the reference (any short text starting "Warmup"): a person asking about
    warmup exercises must reach the model."""
    return text.strip() == "Warmup" or text.startswith("Warmup\n")


def warmup_response(id: str) -> ChatResponse:
    return ChatResponse(
        id=id,
        model="",
        parts=(Text(text=WARMUP_REPLY),),
        finish_reason="stop",
        usage=Usage(input_tokens=1, output_tokens=1),
    )


def is_background_task(req: ChatRequest) -> bool:
    """A short last user message (no tool results, no system reminder) with a known marker."""
    last = req.messages[-1]
    if last.role != "user" or any(isinstance(p, ToolResult) for p in last.parts):
        return False
    text = "\n".join(p.text for p in last.parts if isinstance(p, Text)).strip()
    if not text or len(text) > _BACKGROUND_MAX_CHARS or "<system-reminder>" in text:
        return False
    head = text[:_BACKGROUND_HEAD]
    return any(marker in head for marker in _BACKGROUND_MARKERS)


def as_background_task(req: ChatRequest) -> ChatRequest:
    """Routed under BACKGROUND_MODEL, without thinking: neither asked for nor replayed."""

    def plain(message: Message) -> Message:
        parts = tuple(p for p in message.parts if not isinstance(p, Thinking))
        return replace(message, parts=parts)

    messages = tuple(m for m in map(plain, req.messages) if m.parts)
    return replace(
        req,
        model=BACKGROUND_MODEL,
        messages=messages,
        reasoning=Reasoning(effort="none", include_thoughts=False),
    )
