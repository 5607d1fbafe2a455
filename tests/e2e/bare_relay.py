"""The floor for the CPU regression check: a bare aiohttp relay doing the least a gateway must.

`POST /v1/chat/completions` -> reads the JSON body, sends one Cloud Code streamGenerateContent
(fixed token and project) with aiohttp's client (`--client wire`: the gateway's own upstream
client, providers/wire.py), reads the SSE answer to the end, decodes each event with msgspec and
answers a small chat completion. No accounts, routing or translation.

    python -m tests.e2e.bare_relay --port P --upstream URL --token T --project ID [--client wire]
"""

from __future__ import annotations

import argparse
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

UPSTREAM = web.AppKey("upstream", dict)


async def relay(request: web.Request) -> web.Response:
    conf: dict[str, Any] = request.app[UPSTREAM]
    body = msgspec.json.decode(await request.read())
    text = body["messages"][-1]["content"]
    payload = {"model": body["model"], "project": conf["project"], "requestId": "bare",
               "request": {"contents": [{"role": "user", "parts": [{"text": text}]}]}}
    answer = []
    for line in await conf["call"](conf, msgspec.json.encode(payload)):
        if line.startswith(b"data: "):
            event = msgspec.json.decode(line[6:])
            for part in event["response"]["candidates"][0]["content"].get("parts", []):
                answer.append(part.get("text", ""))
    out = {"object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "".join(answer)},
         "finish_reason": "stop"}]}
    return web.Response(body=msgspec.json.encode(out), content_type="application/json")


async def _aiohttp_call(conf: dict[str, Any], payload: bytes) -> list[bytes]:
    async with conf["session"].post(conf["url"], data=payload, headers=conf["headers"]) as resp:
        return [line async for line in resp.content]


async def _wire_call(conf: dict[str, Any], payload: bytes) -> list[bytes]:
    resp = await conf["session"].request("POST", conf["url"], body=payload,
                                         headers=conf["headers"], timeout=conf["timeout"])
    async with resp:
        return (await resp.read()).split(b"\n")


async def _aiohttp(app: web.Application) -> Any:
    app[UPSTREAM]["session"] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
    app[UPSTREAM]["call"] = _aiohttp_call
    yield
    await app[UPSTREAM]["session"].close()


async def _wire(app: web.Application) -> Any:
    from antigravity_gateway.providers import wire

    app[UPSTREAM].update(session=wire.Client(), call=_wire_call, timeout=wire.Timeout(600, 20))
    yield
    await app[UPSTREAM]["session"].close()


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--port", "--upstream", "--token", "--project"):
        parser.add_argument(name, required=True)
    parser.add_argument("--client", choices=["aiohttp", "wire"], default="aiohttp")
    args = parser.parse_args()
    app = web.Application()
    app[UPSTREAM] = {"url": args.upstream + "/v1internal:streamGenerateContent?alt=sse",
                     "project": args.project,
                     "headers": {"Authorization": f"Bearer {args.token}",
                                 "Content-Type": "application/json"}}
    app.cleanup_ctx.append(_wire if args.client == "wire" else _aiohttp)
    app.router.add_post("/v1/chat/completions", relay)
    import uvloop

    web.run_app(app, host="127.0.0.1", port=int(args.port), access_log=None, print=None,
                loop=uvloop.new_event_loop())


if __name__ == "__main__":
    main()
