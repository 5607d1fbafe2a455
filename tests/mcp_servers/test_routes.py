"""The MCP routes in-process: the settings gate, auth, bad input, an unreachable z.ai, hang-ups.

Every refusal is a JSON-RPC error with the right status, never a 5xx from the gateway itself,
and the gateway stays healthy afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.fakes.zai import SEARCH_PATH, ZAI_KEY, FakeZai
from tests.mcp_servers.client import mcp_session
from tests.server.helpers import KEY

from .conftest import ACCEPT, AUTH, MakeClient, zai_section

ROUTES = ("web_search_prime", "web_reader", "zai-mcp-server")
HEADERS = {**AUTH, **ACCEPT}
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


def url(route: str) -> str:
    return f"/mcp/{route}/mcp"


async def _error(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    body: dict[str, Any] = await resp.json()
    assert body["jsonrpc"] == "2.0" and "id" in body
    return body["error"]  # type: ignore[no-any-return]


async def _healthy(client: TestClient) -> None:
    assert (await client.get("/healthz", headers=AUTH)).status == 200


async def _session(client: TestClient, route: str) -> dict[str, str]:
    resp = await client.post(url(route), json=INIT, headers=HEADERS)
    assert resp.status == 200, await resp.text()
    assert resp.headers["X-Request-Id"]
    session = {
        "Mcp-Session-Id": resp.headers["Mcp-Session-Id"],
        "MCP-Protocol-Version": "2025-06-18",
    }
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert (await client.post(url(route), json=note, headers={**HEADERS, **session})).status == 202
    return {**HEADERS, **session}


@pytest.mark.parametrize(
    "zai_settings",
    [
        {"enabled": False, "api_key": ZAI_KEY, "mcp": {"enabled": True}},
        {"enabled": True, "api_key": "", "mcp": {"enabled": True}},
        {},
    ],
    ids=["disabled", "no-key", "defaults"],
)
@pytest.mark.parametrize("route", ROUTES)
async def test_unconfigured_zai_is_400(make_client: MakeClient, zai_settings, route) -> None:
    client = await make_client(zai_settings)
    error = await _error(await client.post(url(route), json=INIT, headers=HEADERS), 400)
    assert error["message"] == "z.ai is not configured"
    await _healthy(client)


@pytest.mark.parametrize("route", ROUTES)
async def test_mcp_switched_off_is_404(make_client: MakeClient, zai: FakeZai, route) -> None:
    client = await make_client({"enabled": True, "api_key": ZAI_KEY, "base_url": zai.base_url})
    error = await _error(await client.post(url(route), json=INIT, headers=HEADERS), 404)
    assert "zai.mcp.enabled" in error["message"]


SWITCHES = list(zip(ROUTES, ("web_search", "web_reader", "vision"), strict=True))


@pytest.mark.parametrize(("route", "switch"), SWITCHES)
async def test_one_server_switched_off(
    make_client: MakeClient, zai: FakeZai, route, switch
) -> None:
    mcp = {"enabled": True, switch: False}
    client = await make_client(
        {"enabled": True, "api_key": ZAI_KEY, "base_url": zai.base_url, "mcp": mcp}
    )
    error = await _error(await client.post(url(route), json=INIT, headers=HEADERS), 404)
    assert f"zai.mcp.{switch}" in error["message"]
    for other in ROUTES:
        if other != route:
            assert (await client.post(url(other), json=INIT, headers=HEADERS)).status == 200


@pytest.mark.parametrize("route", ROUTES)
async def test_auth_is_the_gateways(make_client: MakeClient, zai: FakeZai, route) -> None:
    client = await make_client()
    missing = await client.post(url(route), json=INIT, headers=ACCEPT)
    assert "missing API key" in (await _error(missing, 401))["message"]
    wrong = await client.post(
        url(route), json=INIT, headers={**ACCEPT, "x-api-key": "sk-wrong-key"}
    )
    assert "invalid API key" in (await _error(wrong, 401))["message"]
    assert not zai.seen  # nothing reached z.ai


@pytest.mark.parametrize("route", ROUTES)
async def test_bad_input_gets_jsonrpc_errors(make_client: MakeClient, route) -> None:
    client = await make_client(max_body_bytes=50_000)
    post = url(route)
    parse = await _error(await client.post(post, data=b"{not json", headers=HEADERS), 400)
    assert parse["code"] == -32700
    tools = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    no_session = await _error(await client.post(post, json=tools, headers=HEADERS), 400)
    assert "session" in no_session["message"].lower()
    unknown = {**HEADERS, "Mcp-Session-Id": "no-such-session"}
    assert (
        "session"
        in (await _error(await client.post(post, json=tools, headers=unknown), 404))[
            "message"
        ].lower()
    )
    session = await _session(client, route)
    resp = await client.post(
        post, json={"jsonrpc": "2.0", "id": 3, "method": "no/such"}, headers=session
    )
    assert resp.status == 200 and '"code":-32601' in await resp.text()
    batch = [tools, {"bad": "member"}]
    assert (await client.post(post, json=batch, headers=session)).status == 400
    huge = await _error(await client.post(post, data=b"x" * 60_000, headers=session), 413)
    assert "max_body_bytes" in huge["message"]
    put = await _error(await client.put(post, json=tools, headers=session), 405)
    assert "GET, POST" in put["message"]
    await _healthy(client)


async def test_local_batch_is_named(make_client: MakeClient) -> None:
    client = await make_client()
    session = await _session(client, "zai-mcp-server")
    batch = [{"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, {"bad": "member"}]
    error = await _error(await client.post(url("zai-mcp-server"), json=batch, headers=session), 400)
    assert "batches" in error["message"]


async def test_oversize_streamed_body_is_413(make_client: MakeClient, zai: FakeZai) -> None:
    client = await make_client(max_body_bytes=50_000)
    session = await _session(client, "web_search_prime")

    async def chunks() -> Any:  # no Content-Length: the limit is enforced while streaming
        for _ in range(20):
            yield b"x" * 8192

    error = await _error(
        await client.post(url("web_search_prime"), data=chunks(), headers=session), 413
    )
    assert "max_body_bytes" in error["message"]
    await _healthy(client)


async def test_unreachable_zai_is_a_jsonrpc_error(make_client: MakeClient) -> None:
    dead = {
        "enabled": True,
        "api_key": ZAI_KEY,
        "base_url": "http://127.0.0.1:9",
        "mcp": {"enabled": True},
    }
    client = await make_client(dead)
    error = await _error(await client.post(url("web_reader"), json=INIT, headers=HEADERS), 502)
    assert error["message"].startswith(
        "z.ai is unreachable (http://127.0.0.1:9/api/mcp/web_reader/mcp)"
    )
    await _healthy(client)
    server = client.server
    async with mcp_session(
        f"http://{server.host}:{server.port}{url('zai-mcp-server')}", KEY
    ) as session:
        result = await session.call_tool(
            "analyze_image", {"image_source": "https://x.test/a.png", "prompt": "?"}
        )
    assert result.is_error and "z.ai is unreachable" in result.content[0].text  # type: ignore[union-attr]


async def test_a_refused_zai_key_is_not_a_401_to_the_client(
    make_client: MakeClient, zai: FakeZai
) -> None:
    wrong = {**zai_section(zai)["zai"], "api_key": "zai-wrong-key"}  # type: ignore[dict-item]
    client = await make_client(wrong)
    error = await _error(
        await client.post(url("web_search_prime"), json=INIT, headers=HEADERS), 502
    )
    assert error["message"].startswith("z.ai refused zai.api_key (HTTP 401)")


async def test_hang_up_closes_the_zai_stream(make_client: MakeClient, zai: FakeZai) -> None:
    client = await make_client()
    session = await _session(client, "web_search_prime")
    stream = await client.get(
        url("web_search_prime"), headers={**session, "Accept": "text/event-stream"}
    )
    assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
    assert f"GET {SEARCH_PATH}" not in zai.disconnects
    stream.close()  # the client hangs up on an idle SSE stream
    deadline = time.monotonic() + 20
    while f"GET {SEARCH_PATH}" not in zai.disconnects and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert f"GET {SEARCH_PATH}" in zai.disconnects
    await _healthy(client)


async def test_hang_up_frees_the_local_sse_stream(make_client: MakeClient) -> None:
    client = await make_client()
    session = await _session(client, "zai-mcp-server")
    listen = {**session, "Accept": "text/event-stream"}
    first = await client.get(url("zai-mcp-server"), headers=listen)
    assert first.status == 200
    first.close()  # one GET stream per session: it is free again once the SDK saw the hang-up
    deadline = time.monotonic() + 20
    while True:
        again = await client.get(url("zai-mcp-server"), headers=listen)
        if again.status == 200 or time.monotonic() > deadline:
            break
        assert again.status == 409, await again.text()
        await asyncio.sleep(0.1)
    assert again.status == 200
    again.close()


async def test_one_record_per_call_with_the_tool_name(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = await make_client()
    server = client.server
    caplog.set_level(logging.DEBUG, logger="antigravity_gateway.mcp_servers")
    async with mcp_session(
        f"http://{server.host}:{server.port}{url('zai-mcp-server')}", KEY
    ) as session:
        await session.call_tool(
            "analyze_image", {"image_source": "https://x.test/a.png", "prompt": "?"}
        )
    lines = [r.getMessage() for r in caplog.records if r.name.endswith("mcp_servers.calls")]
    assert "mcp zai-mcp-server POST analyze_image -> 200" in "\n".join(lines)
    assert any(line.startswith("mcp zai-mcp-server POST initialize -> 200") for line in lines)


NASTY = [
    b"",
    b"null",
    b"[]",
    b"{}",
    b'"initialize"',
    b'{"jsonrpc":"2.0"}',
    b'{"jsonrpc":"2.0","id":1}',
    b'{"jsonrpc":"1.0","id":1,"method":"initialize"}',
    b'{"jsonrpc":"2.0","id":{"x":1},"method":"tools/list"}',
    b'{"jsonrpc":"2.0","id":1,"method":5}',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"x"}',
    b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"analyze_image","arguments":[]}}',
    b'{"jsonrpc":"2.0","id":1e999,"method":"ping"}',
    b"[" * 5000,
    b"\xff\xfe\x00{",
]


@pytest.mark.parametrize("body", NASTY, ids=range(len(NASTY)))
@pytest.mark.parametrize("route", ["zai-mcp-server", "web_reader"])
async def test_nasty_bodies_never_5xx(make_client: MakeClient, route, body: bytes) -> None:
    client = await make_client()
    session = await _session(client, route)
    for headers in (HEADERS, session):
        resp = await client.post(url(route), data=body, headers=headers)
        assert resp.status < 500, (resp.status, await resp.text())
    await _healthy(client)
