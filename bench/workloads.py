"""The workloads of `bench/run.py`: one request per workload, as each target receives it.

A workload is what a client sends to the gateway (OpenAI chat, Anthropic Messages, Gemini) and
the equivalent upstream call (the Cloud Code envelope the simulator answers), sent to the
simulator directly and through nginx, and as OpenAI chat to litellm where litellm serves it.
The `bench:` marker in the last message picks the simulator's answer (see bench/sim.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

MODEL = "gemini-3-flash"
LONG = 2000  # stream events of the long answer
TOOLS = [{"type": "function", "function": {
    "name": "read_file", "description": "Read a file of the workspace.",
    "parameters": {"type": "object", "properties": {"path": {"type": "string"}},
                   "required": ["path"]}}}]


@dataclass(frozen=True)
class Request:
    path: str
    body: dict[str, Any]
    stream: bool
    end: bytes  # the stream's last event contains this (checked)
    # "aiohttp"; "openai-sdk": sent by the official SDK, as a real app sends it;
    # "openai-sdk-bytes": the SDK's own headers and body, captured once, replayed by aiohttp
    client: str = "aiohttp"


@dataclass(frozen=True)
class Workload:
    name: str
    gateway: Request
    upstream: Request | None  # to the simulator (direct, nginx); None: no upstream equivalent
    litellm: Request | None


def conversation(turns: int, last: str) -> list[dict[str, str]]:
    """`turns` alternating user/assistant messages of ~500 characters, ending with `last`."""
    filler = "Please look at the function below and explain what it does. " * 8
    messages = [{"role": "user" if n % 2 == 0 else "assistant", "content": f"{n}: {filler}"}
                for n in range(turns - 1)]
    return [*messages, {"role": "user", "content": last}]


def _contents(messages: list[dict[str, str]]) -> list[dict[str, Any]]:
    return [{"role": "user" if m["role"] == "user" else "model", "parts": [{"text": m["content"]}]}
            for m in messages]


def upstream(messages: list[dict[str, str]], tools: bool = False) -> Request:
    inner: dict[str, Any] = {"contents": _contents(messages)}
    if tools:
        inner["tools"] = [{"functionDeclarations": [
            {k: v for k, v in t["function"].items()} for t in TOOLS]}]
    body = {"model": MODEL, "project": "bench-project", "requestId": "bench",
            "request": inner}
    return Request("/v1internal:streamGenerateContent?alt=sse", body, True, b'"STOP"')


def openai(messages: list[dict[str, str]], stream: bool, tools: bool = False) -> Request:
    body: dict[str, Any] = {"model": MODEL, "messages": messages, "stream": stream}
    if tools:
        body["tools"] = TOOLS
    return Request("/v1/chat/completions", body, stream, b"[DONE]" if stream else b"choices")


def anthropic(messages: list[dict[str, str]]) -> Request:
    body = {"model": MODEL, "max_tokens": 1024, "messages": messages, "stream": True}
    return Request("/v1/messages", body, True, b"message_stop")


def gemini(messages: list[dict[str, str]]) -> Request:
    return Request(f"/v1beta/models/{MODEL}:streamGenerateContent?alt=sse",
                   {"contents": _contents(messages)}, True, b'"STOP"')


def sdk(req: Request, client: str = "openai-sdk") -> Request:
    """The same chat request, sent by the official openai SDK (or its bytes, replayed)."""
    return replace(req, client=client)


def openai_only(name: str, req: Request) -> Workload:
    """`req` as it is to the gateway and litellm; no Cloud Code twin for direct and nginx."""
    return Workload(name, req, None, req)


def _simple(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def workloads() -> list[Workload]:
    hi = _simple("hi")
    tool = _simple("Read src/app.py bench:tool")
    big = conversation(200, "Summarise. bench:chunks=2")
    long = _simple(f"Write a long answer. bench:chunks={LONG}")
    return [
        Workload("chat", openai(hi, False), upstream(hi), openai(hi, False)),
        Workload("chat_stream", openai(hi, True), upstream(hi), openai(hi, True)),
        # a real client's load: the SDK's own headers, JSON and SSE handling (and its CPU,
        # on the load generator's core, so fewer requests per second reach the proxies)
        openai_only("chat_sdk", sdk(openai(hi, False))),
        openai_only("chat_stream_sdk", sdk(openai(hi, True))),
        # the SDK's requests byte for byte at the generator's rate: the proxy saturated, as
        # litellm is under any load (a cache-cold proxy costs more a request: bench/README.md)
        openai_only("chat_sdk_bytes", sdk(openai(hi, False), "openai-sdk-bytes")),
        openai_only("chat_stream_sdk_bytes", sdk(openai(hi, True), "openai-sdk-bytes")),
        Workload("anthropic_stream", anthropic(hi), upstream(hi), anthropic(hi)),
        Workload("gemini_stream", gemini(hi), upstream(hi), None),
        Workload("tool_turn", openai(tool, True, tools=True), upstream(tool, tools=True),
                 openai(tool, True, tools=True)),
        Workload("conversation_200", openai(big, True), upstream(big), openai(big, True)),
        Workload("long_2000_openai", openai(long, True), upstream(long), openai(long, True)),
        Workload("long_2000_anthropic", anthropic(long), upstream(long), anthropic(long)),
    ]


def slow(protocol: str, ident: str, interval_ms: int, stream: bool) -> Request:
    """A request whose upstream answer never ends (until the client hangs up)."""
    messages = _simple(f"wait bench:slow={ident}/{interval_ms}")
    match protocol:
        case "openai":
            return openai(messages, stream)
        case "anthropic":
            req = anthropic(messages)
            return Request(req.path, {**req.body, "stream": stream}, stream, req.end)
        case "gemini":
            method = "streamGenerateContent?alt=sse" if stream else "generateContent"
            return Request(f"/v1beta/models/{MODEL}:{method}", {"contents": _contents(messages)},
                           stream, b"")
        case "responses":
            return Request("/v1/responses", {"model": MODEL, "input": messages[0]["content"],
                                             "stream": stream}, stream, b"")
    raise ValueError(protocol)
