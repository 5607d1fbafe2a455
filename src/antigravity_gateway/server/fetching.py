"""Fetching a URL a client named (an image, a file) without becoming a port scanner.

Only http(s). Every address the host resolves to must be public (unless
`proxy.allow_private_fetch`) and the connection is pinned to the checked address, so DNS
rebinding between check and connect cannot work. Redirects are checked again, and every network
failure reads the same, so the answer tells nothing about what is listening.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp
from yarl import URL

MAX_REDIRECTS = 5
UNREACHABLE = "no usable answer from that address"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254"))


class FetchRefused(Exception):
    """The URL may not or could not be fetched; the message is safe to show the client."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The caps of one fetch: body size, total seconds, and whether private addresses pass."""

    max_bytes: int
    timeout: float
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched body and the Content-Type its server gave."""

    content_type: str
    data: bytes


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (IPv4-mapped IPv6 judged as IPv4): not
    loopback, private, link-local (cloud metadata), shared, multicast or reserved."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast and ip not in _METADATA


async def fetch(http: aiohttp.ClientSession, url: str, limits: Limits) -> Fetched:
    """GET `url` under `limits`, following redirects by hand (each host checked again);
    FetchRefused with a client-safe reason otherwise."""
    try:
        async with asyncio.timeout(limits.timeout):
            for _ in range(MAX_REDIRECTS + 1):
                target = await _checked_target(url, limits.allow_private)
                fetched, location = await _get(http, url, target, limits.max_bytes)
                if location is None:
                    assert fetched is not None
                    return fetched
                url = urljoin(url, location)
    except TimeoutError:
        raise FetchRefused(f"it did not arrive within {limits.timeout:g} s") from None
    raise FetchRefused(f"it redirects more than {MAX_REDIRECTS} times")


async def _checked_target(url: str, allow_private: bool) -> URL:
    """The URL with its host replaced by one checked address (the connection is pinned: the
    name is resolved once)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchRefused("only http(s) URLs can be fetched")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchRefused(UNREACHABLE) from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise FetchRefused(UNREACHABLE)
    if not allow_private and not all(is_public(a) for a in addresses):
        raise FetchRefused("it points at a loopback, private or link-local address, which the "
                           "gateway does not fetch (proxy.allow_private_fetch allows it)")
    return URL(url).with_host(addresses[0].split("%")[0])


async def _get(
    http: aiohttp.ClientSession, url: str, target: URL, max_bytes: int
) -> tuple[Fetched | None, str | None]:
    """(the body, None) or (None, the redirect location)."""
    original = URL(url)
    host = original.host or ""
    headers = {"Host": original.host_port_subcomponent or host, "Accept": "*/*"}
    tls_name = host if original.scheme == "https" else None  # Host and TLS name: the original
    try:
        async with http.get(target, headers=headers, allow_redirects=False,
                            server_hostname=tls_name) as resp:
            if resp.status in _REDIRECTS and resp.headers.get("Location"):
                return None, resp.headers["Location"]
            if resp.status != 200:
                raise FetchRefused(UNREACHABLE)
            if (resp.content_length or 0) > max_bytes:
                raise FetchRefused(f"it is larger than {max_bytes} bytes")
            data = bytearray()
            async for chunk in resp.content.iter_chunked(65536):
                data += chunk
                if len(data) > max_bytes:
                    raise FetchRefused(f"it is larger than {max_bytes} bytes")
            return Fetched(resp.content_type, bytes(data)), None
    except (aiohttp.ClientError, OSError, ValueError):
        raise FetchRefused(UNREACHABLE) from None
