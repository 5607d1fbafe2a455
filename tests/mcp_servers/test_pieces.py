"""The pure pieces of the MCP routes: vision requests and answers, sniffing, JSON-RPC errors."""

from __future__ import annotations

import pytest

from antigravity_gateway.errors import InvalidRequest, NotFound, UpstreamError
from antigravity_gateway.mcp_servers.calls import SNIFF_BYTES, Sniffer
from antigravity_gateway.mcp_servers.gate import McpServer, zai_key
from antigravity_gateway.mcp_servers.vision import (
    VISION_MODEL,
    ToolFailure,
    answer_text,
    build_request,
)
from antigravity_gateway.mcp_servers.vision_tools import BY_NAME, TOOLS
from antigravity_gateway.protocols import jsonrpc
from tests.server.helpers import settings_with

PNG = "data:image/png;base64,iVBORw0KGgo="


def test_eight_tools_with_object_schemas() -> None:
    assert len(TOOLS) == 8 == len(BY_NAME)
    for tool in TOOLS:
        schema = tool.input_schema()
        assert schema["type"] == "object" and "prompt" in schema["required"]
        assert set(schema["required"]) <= set(schema["properties"])


def test_diff_check_sends_both_images_in_order() -> None:
    body = build_request(
        BY_NAME["ui_diff_check"],
        {
            "expected_image_source": PNG,
            "actual_image_source": "https://x.test/b.png",
            "prompt": "diff",
        },
    )
    assert body["model"] == VISION_MODEL and body["stream"] is False
    parts = body["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["image_url", "image_url", "text"]
    assert parts[0]["image_url"]["url"] == PNG
    assert parts[1]["image_url"]["url"] == "https://x.test/b.png"


def test_video_and_extras() -> None:
    body = build_request(
        BY_NAME["analyze_video"],
        {"video_source": "https://x.test/v.mp4", "prompt": "what happens?"},
    )
    assert body["messages"][1]["content"][0] == {
        "type": "video_url",
        "video_url": {"url": "https://x.test/v.mp4"},
    }
    body = build_request(
        BY_NAME["extract_text_from_screenshot"],
        {"image_source": PNG, "prompt": "read", "programming_language": "python"},
    )
    assert body["messages"][1]["content"][-1]["text"] == "read\nprogramming_language: python"


@pytest.mark.parametrize(
    ("arguments", "needle"),
    [
        ({"image_source": PNG}, "'prompt' is required"),
        ({"image_source": PNG, "prompt": "  "}, "'prompt' is required"),
        ({"prompt": "x"}, "'image_source' is required"),
        ({"image_source": 42, "prompt": "x"}, "'image_source' is required"),
        ({"image_source": "/home/me/shot.png", "prompt": "x"}, "does not read local files"),
        ({"image_source": "file:///etc/passwd", "prompt": "x"}, "does not read local files"),
        ({"image_source": "data:video/mp4;base64,AAAA", "prompt": "x"}, "not a base64 data URL"),
        ({"image_source": "data:image/png,not-base64", "prompt": "x"}, "not a base64 data URL"),
    ],
)
def test_bad_arguments_are_tool_failures(arguments, needle) -> None:
    with pytest.raises(ToolFailure, match=needle):
        build_request(BY_NAME["analyze_image"], arguments)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"choices":[{"message":{"content":"a cat"}}]}', "a cat"),
        (
            b'{"choices":[{"message":{"content":[{"type":"text","text":"a "},{"text":"dog"}]}}]}',
            "a dog",
        ),
    ],
)
def test_answer_text(raw: bytes, expected: str) -> None:
    assert answer_text(raw) == expected


@pytest.mark.parametrize(
    "raw", [b"not json", b"{}", b'{"choices":[]}', b'{"choices":[{"message":{"content":""}}]}']
)
def test_answer_without_text_is_a_tool_failure(raw: bytes) -> None:
    with pytest.raises(ToolFailure):
        answer_text(raw)


@pytest.mark.parametrize(
    ("body", "tool"),
    [
        (
            b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"webReader"}}',
            "webReader",
        ),
        (b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}', "initialize"),
        (b'[{"method":"tools/list","id":1},{"method":"ping","id":2},{"id":3}]', "tools/list,ping"),
        (b'{"not": "rpc"}', ""),
        (b"{broken", ""),
        (b"[" * 5000, ""),
        (b"", ""),
    ],
)
def test_sniffer_names_what_was_asked(body: bytes, tool: str) -> None:
    sniffer = Sniffer()
    for i in range(0, len(body), 7):  # as it streams past
        sniffer.feed(body[i : i + 7])
    assert sniffer.tool() == tool and sniffer.total == len(body)


def test_sniffer_keeps_only_the_head() -> None:
    sniffer = Sniffer()
    sniffer.feed(b"x" * (SNIFF_BYTES + 10))
    assert len(sniffer.head) == SNIFF_BYTES and sniffer.total == SNIFF_BYTES + 10


def test_gate_order_and_switches() -> None:
    with pytest.raises(InvalidRequest, match="^z.ai is not configured$"):
        zai_key(settings_with(zai={"enabled": True, "mcp": {"enabled": True}}), McpServer.VISION)
    with pytest.raises(NotFound, match="zai.mcp.enabled"):
        zai_key(settings_with(zai={"enabled": True, "api_key": "k"}), McpServer.WEB_SEARCH)
    on = settings_with(
        zai={"enabled": True, "api_key": "k", "mcp": {"enabled": True, "vision": False}}
    )
    assert zai_key(on, McpServer.WEB_READER) == "k"
    with pytest.raises(NotFound, match="zai.mcp.vision"):
        zai_key(on, McpServer.VISION)


def test_jsonrpc_error_envelope() -> None:
    assert jsonrpc.encode_error(InvalidRequest("bad")) == (
        400,
        {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "bad"}},
    )
    status, body = jsonrpc.encode_error(UpstreamError(503, "", message="down"))
    assert status == 503 and body["error"]["code"] == jsonrpc.SERVER_ERROR
