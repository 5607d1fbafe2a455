"""The MCP routes through `agm serve` with auth on, driven by the official `mcp` Python client.

z.ai is played by tests/fakes/zai.py (real MCP servers built with the same SDK, and a fake vision
chat endpoint). Each of the three routes: initialize, list tools, call a tool.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.gateway import API_KEY, Gateway
from tests.e2e.zai_gateway import zai_section
from tests.fakes.cloudcode import FakeGoogle
from tests.fakes.zai import CHAT_PATH, READER_PATH, SEARCH_PATH, ZAI_KEY, FakeZai
from tests.mcp_servers.client import mcp_session

VISION_TOOLS = {
    "ui_to_artifact", "extract_text_from_screenshot", "diagnose_error_screenshot",
    "understand_technical_diagram", "analyze_data_visualization", "ui_diff_check",
    "analyze_image", "analyze_video",
}


def _upstream_calls(zai: FakeZai, path: str) -> list[dict[str, str]]:
    return [seen.headers for seen in zai.seen if seen.path == path]


async def test_web_search_prime(zai_gateway: Gateway, zai: FakeZai) -> None:
    async with mcp_session(f"{zai_gateway.url}/mcp/web_search_prime/mcp", API_KEY) as session:
        tools = await session.list_tools()
        assert [t.name for t in tools.tools] == ["webSearchPrime"]
        result = await session.call_tool("webSearchPrime", {"search_query": "aiohttp streaming"})
    assert not result.is_error
    found = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert found[0]["title"] == "aiohttp streaming - overview"
    calls = _upstream_calls(zai, SEARCH_PATH)
    assert len(calls) >= 3  # initialize, initialized, tools/list, tools/call (+ GET, DELETE)
    assert all(h["authorization"] == f"Bearer {ZAI_KEY}" for h in calls)
    assert not any(API_KEY in value for h in calls for value in h.values())
    session_ids = {h.get("mcp-session-id") for h in calls[1:]}
    assert len(session_ids) == 1 and None not in session_ids  # passed both ways
    assert all(h.get("mcp-protocol-version") for h in calls[1:])


async def test_web_reader(zai_gateway: Gateway, zai: FakeZai) -> None:
    async with mcp_session(f"{zai_gateway.url}/mcp/web_reader/mcp", API_KEY) as session:
        tools = await session.list_tools()
        assert [t.name for t in tools.tools] == ["webReader"]
        result = await session.call_tool("webReader", {"url": "https://example.com/a"})
        failed = await session.call_tool("webReader", {"url": "ftp://nowhere"})
    assert result.content[0].text.startswith("# Page at https://example.com/a")  # type: ignore[union-attr]
    assert failed.is_error  # z.ai's tool error comes back as a tool error
    assert _upstream_calls(zai, READER_PATH)


async def test_local_vision_server(zai_gateway: Gateway, zai: FakeZai) -> None:
    url = f"{zai_gateway.url}/mcp/zai-mcp-server/mcp"
    async with mcp_session(url, API_KEY) as session:
        tools = await session.list_tools()
        assert {t.name for t in tools.tools} == VISION_TOOLS
        result = await session.call_tool(
            "analyze_image",
            {"image_source": "https://example.com/cat.png", "prompt": "What animal is this?"},
        )
    assert not result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert text == "glm-4.6v looked at https://example.com/cat.png for: What animal is this?"
    [call] = zai.vision_calls
    assert call["model"] == "glm-4.6v"
    [seen] = _upstream_calls(zai, CHAT_PATH)
    assert seen["authorization"] == f"Bearer {ZAI_KEY}"
    await _assert_monitor_row(zai_gateway, "analyze_image")


async def _assert_monitor_row(gateway: Gateway, tool: str) -> None:
    """The call left a request-log row: protocol mcp, the tool as the model."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for _ in range(50):  # the writer thread commits within about 0.1 s
            async with http.get(f"{gateway.url}/api/logs?protocol=mcp&model={tool}") as answer:
                rows = (await answer.json())["logs"]
            if rows:
                break
            await asyncio.sleep(0.05)
    assert rows and rows[0]["model"] == tool and rows[0]["protocol"] == "mcp"
    assert rows[0]["status"] == 200 and rows[0]["mapped_model"] == "zai-mcp-server"


async def test_vision_tool_errors_are_tool_results(zai_gateway: Gateway, zai: FakeZai) -> None:
    url = f"{zai_gateway.url}/mcp/zai-mcp-server/mcp"
    zai.vision_replies.append((500, {"error": {"message": "model overloaded"}}))
    async with mcp_session(url, API_KEY) as session:
        local_file = await session.call_tool(
            "analyze_image", {"image_source": "/etc/passwd", "prompt": "read it"}
        )
        overloaded = await session.call_tool(
            "analyze_image", {"image_source": "https://example.com/a.png", "prompt": "hi"}
        )
    assert local_file.is_error and "does not read local files" in local_file.content[0].text  # type: ignore[union-attr]
    assert overloaded.is_error and "model overloaded" in overloaded.content[0].text  # type: ignore[union-attr]
    assert len(zai.vision_calls) == 1  # the local path never reached z.ai


@pytest.mark.parametrize("route", ["web_search_prime", "zai-mcp-server"])
async def test_open_streams_do_not_hold_up_a_stop(
    fake: FakeGoogle, zai: FakeZai, tmp_path: Path, route: str
) -> None:
    gateway = Gateway.start(fake, tmp_path, accounts=1, sections=zai_section(zai))
    try:
        async with mcp_session(f"{gateway.url}/mcp/{route}/mcp", API_KEY) as session:
            await session.list_tools()  # the client now holds its GET stream open
            exit_code = await asyncio.to_thread(gateway.stop)
    except BaseException:
        gateway.stop()
        raise
    assert exit_code == 0  # stopped by itself, not killed after the 30 s grace period
