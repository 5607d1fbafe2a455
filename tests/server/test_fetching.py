"""The outbound fetch guard (server/fetching.py): address ranges, pinning, redirects re-checked."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from antigravity_gateway.server import fetching
from antigravity_gateway.server.fetching import FetchRefused, Limits, fetch, is_public


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True), ("2001:4860:4860::8888", True), ("127.0.0.1", False), ("::1", False),
    ("10.0.0.1", False), ("172.16.5.4", False), ("192.168.1.1", False), ("169.254.169.254", False),
    ("fe80::1", False), ("fd00:ec2::254", False), ("100.64.0.1", False), ("0.0.0.0", False),
    ("224.0.0.1", False), ("::ffff:127.0.0.1", False), ("::ffff:8.8.8.8", True),
])
def test_address_ranges(address: str, public: bool) -> None:
    assert is_public(address) is public


@pytest.fixture
async def site(aiohttp_server):
    seen: list[str] = []

    async def cat(request: web.Request) -> web.Response:
        seen.append(request.headers["Host"])
        return web.Response(body=b"PNG!", content_type="image/png")

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query.get("to", "/hop"))  # without `to`: forever

    app = web.Application()
    app.router.add_get("/cat.png", cat)
    app.router.add_get("/hop", hop)
    server = await aiohttp_server(app)
    server.seen = seen
    return server


async def test_the_connection_is_pinned_and_keeps_the_host_name(site) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"http://localhost:{site.port}/cat.png"
        got = await fetch(http, url, Limits(max_bytes=100, timeout=5, allow_private=True))
    assert (got.data, got.content_type) == (b"PNG!", "image/png")
    assert site.seen == [f"localhost:{site.port}"]


async def test_redirects_are_checked_again(site, monkeypatch) -> None:
    """127.0.0.1 plays a public host here; its redirect to 127.0.0.2 (private) is refused."""
    monkeypatch.setattr(fetching, "is_public", lambda address: address == "127.0.0.1")
    target = f"http://127.0.0.2:{site.port}/cat.png"
    async with aiohttp.ClientSession() as http:
        limits = Limits(max_bytes=100, timeout=5)
        ok = await fetch(http, f"http://127.0.0.1:{site.port}/cat.png", limits)
        assert ok.data == b"PNG!"
        with pytest.raises(FetchRefused, match="allow_private_fetch"):
            await fetch(http, f"http://127.0.0.1:{site.port}/hop?to={target}", limits)


async def test_schemes_sizes_and_redirect_loops(site) -> None:
    limits = Limits(max_bytes=3, timeout=5, allow_private=True)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(FetchRefused, match="only http"):
            await fetch(http, "file:///etc/passwd", limits)
        with pytest.raises(FetchRefused, match="larger than 3 bytes"):
            await fetch(http, f"http://127.0.0.1:{site.port}/cat.png", limits)
        loop = f"http://127.0.0.1:{site.port}/hop"
        with pytest.raises(FetchRefused, match="redirects more than"):
            await fetch(http, loop, limits)
        with pytest.raises(FetchRefused, match="no usable answer"):
            await fetch(http, "http://no-such-host.invalid/x.png", limits)
