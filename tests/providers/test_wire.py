"""The upstream HTTP client against raw loopback servers: keep-alive, every body framing, a
connection the host closed, hang-ups, time limits, proxies (plain and CONNECT with TLS)."""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from antigravity_gateway.core import network
from antigravity_gateway.core.network import ConnectTimeout, Disconnected, Timeout
from antigravity_gateway.providers import wire

Handler = Callable[["Peer"], Awaitable[None]]
LIMITS = Timeout(total=5, connect=5)


@dataclass
class Peer:
    """One accepted connection of a test server."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def request(self) -> tuple[str, dict[str, str], bytes]:
        """The next request's line, headers (lower-case names) and body."""
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in head[1:] if line)
        headers = {k.lower(): v for k, v in headers.items()}
        body = await self.reader.readexactly(int(headers.get("content-length", 0)))
        return head[0], headers, body

    def answer(self, body: bytes, *, extra: str = "") -> None:
        self.writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s"
                          % (len(body), extra.encode(), body))


@dataclass
class Server:
    """A raw loopback server: `handler` runs once per connection."""

    handler: Handler
    connections: int = 0
    ended: int = 0  # connections the client closed (or the handler finished)
    peers: list[Peer] = field(default_factory=list)
    url: str = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        peer = Peer(reader, writer)
        self.peers.append(peer)
        try:
            await self.handler(peer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.ended += 1
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler, tls: ssl.SSLContext | None = None) -> Server:
        server = Server(handler)
        listener = await asyncio.start_server(server.serve, "127.0.0.1", 0, ssl=tls)
        servers.append(listener)
        port = listener.sockets[0].getsockname()[1]
        server.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        return server

    yield start
    for listener in servers:
        listener.close()


@pytest.fixture
async def client() -> AsyncIterator[wire.Client]:
    async with wire.Client() as c:
        yield c


def sends(raw: bytes, *, hold: float = 0) -> Handler:
    """A host that reads one request, writes `raw` (whatever it is), keeps the connection
    `hold` seconds and closes it."""

    async def handler(peer: Peer) -> None:
        await peer.request()
        peer.writer.write(raw)
        await asyncio.sleep(hold)

    return handler


async def keep_answering(peer: Peer) -> None:
    while True:
        line, _, body = await peer.request()
        peer.answer(b"%s %s" % (line.split()[1].encode(), body))


async def call(client: wire.Client, url: str, body: bytes | None = b"{}", **kw: object) -> bytes:
    resp = await client.request("POST", url, body=body, headers={"X-Test": "1"},
                                timeout=LIMITS, **kw)  # type: ignore[arg-type]
    async with resp:
        return await resp.read()


async def test_calls_share_one_kept_alive_connection(serve, client) -> None:
    server = await serve(keep_answering)
    assert await call(client, server.url + "/a?x=1", b"one") == b"/a?x=1 one"
    assert await call(client, server.url + "/b", b"two") == b"/b two"
    assert server.connections == 1


async def test_what_a_call_sends(serve, client) -> None:
    seen: list[tuple[str, dict[str, str], bytes]] = []

    async def record(peer: Peer) -> None:
        seen.append(await peer.request())
        peer.answer(b"")

    server = await serve(record)
    await call(client, server.url + "/v1internal:x?alt=sse", b'{"a":1}')
    [(line, headers, body)] = seen
    assert line == "POST /v1internal:x?alt=sse HTTP/1.1" and body == b'{"a":1}'
    assert headers == {"host": server.url.removeprefix("http://"), "content-length": "7",
                       "accept-encoding": "identity",  # no compressed answer to undo
                       "user-agent": "antigravity-gateway", "x-test": "1"}


async def test_concurrent_calls_get_a_connection_each(serve, client) -> None:
    server = await serve(keep_answering)
    got = await asyncio.gather(*(call(client, f"{server.url}/{n}", b"") for n in range(5)))
    assert sorted(got) == [f"/{n} ".encode() for n in range(5)]
    assert server.connections == 5
    await asyncio.gather(*(call(client, server.url + "/again") for _ in range(5)))
    assert server.connections == 5  # all five were kept


async def test_a_chunked_answer_arrives_as_sent(serve, client) -> None:
    async def chunked(peer: Peer) -> None:
        await peer.request()
        peer.writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                          b"Content-Type: text/event-stream\r\n\r\n5\r\nfirst\r\n")
        await peer.writer.drain()
        await asyncio.sleep(0.05)
        peer.writer.write(b"6\r\nsecond\r\n0\r\n\r\n")
        await keep_answering(peer)

    server = await serve(chunked)
    resp = await client.request("POST", server.url + "/s", body=b"", headers={},
                                timeout=LIMITS)
    assert resp.status == 200 and resp.headers["content-type"] == "text/event-stream"
    assert await resp.readany() == b"first" and not resp.at_eof()
    assert await resp.readany() == b"second" and resp.at_eof()
    assert await resp.readany() == b""
    resp.release()
    assert await call(client, server.url + "/next") == b"/next {}"
    assert server.connections == 1


async def test_an_answer_without_a_length_ends_with_its_connection(serve, client) -> None:
    server = await serve(sends(b"HTTP/1.0 200 OK\r\n\r\nall of it"))
    assert await call(client, server.url) == b"all of it"
    assert await call(client, server.url) == b"all of it"
    assert server.connections == 2


async def test_a_large_answer_read_slowly_arrives_whole(serve, client) -> None:
    blob = bytes(range(256)) * 8192  # 2 MB: reading pauses and resumes on the way

    async def large(peer: Peer) -> None:
        while True:
            await peer.request()
            peer.answer(blob)
            await peer.writer.drain()

    server = await serve(large)
    for _ in range(2):
        resp = await client.request("GET", server.url, body=None, headers={}, timeout=LIMITS)
        got = []
        while chunk := await resp.readany():
            got.append(chunk)
            await asyncio.sleep(0.001)
        resp.release()
        assert b"".join(got) == blob
    assert server.connections == 1


async def test_a_connection_the_host_closed_meanwhile_is_replaced(serve, client) -> None:
    async def once_then_close(peer: Peer) -> None:
        await peer.request()
        peer.answer(b"ok")  # keep-alive by HTTP/1.1, but the host closes it (idle timeout)
        await peer.writer.drain()

    server = await serve(once_then_close)
    assert await call(client, server.url) == b"ok"
    await asyncio.sleep(0.05)
    assert await call(client, server.url) == b"ok"
    assert server.connections == 2


async def test_a_host_that_closes_without_answering_is_named(serve, client) -> None:
    server = await serve(sends(b""))
    with pytest.raises(Disconnected) as info:
        await call(client, server.url)
    assert network.describe(info.value, server.url).endswith(
        "closed the connection without answering")


async def test_garbage_instead_of_http_is_a_disconnect(serve, client) -> None:
    server = await serve(sends(b"SSH-2.0-OpenSSH\r\n\r\n", hold=1))
    with pytest.raises(Disconnected, match="unreadable HTTP answer"):
        await call(client, server.url)


async def test_releasing_early_closes_the_connection(serve, client) -> None:
    closed = asyncio.Event()

    async def endless(peer: Peer) -> None:
        await peer.request()
        peer.writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        while True:
            peer.writer.write(b"4\r\ndata\r\n")
            try:
                await peer.writer.drain()
            except ConnectionError:
                break
            if await peer.reader.read(1) == b"":  # the client closed its side
                break
        closed.set()

    server = await serve(endless)
    resp = await client.request("POST", server.url, body=b"", headers={}, timeout=LIMITS)
    assert await resp.readany()
    resp.release()
    resp.release()  # twice is harmless
    await asyncio.wait_for(closed.wait(), 2)
    assert await resp.readany() == b"" and resp.at_eof()


async def test_the_time_limit_covers_the_answer(serve, client) -> None:
    server = await serve(sends(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", hold=5))
    limits = Timeout(total=0.2, connect=5)
    resp = await client.request("POST", server.url, body=b"", headers={}, timeout=limits)
    assert await resp.readany() == b"abc"
    with pytest.raises(TimeoutError) as info:
        await resp.readany()
    resp.release()
    assert network.describe(info.value, server.url, limits) == (
        f"timed out after 0.2 s waiting for {server.url.removeprefix('http://')}")


def test_the_client_s_failures_in_words() -> None:
    url = "https://cloudcode-pa.googleapis.com/v1internal:x"
    limits = Timeout(total=600, connect=20)
    assert network.describe(ConnectTimeout(), url, limits) == (
        "timed out after 20 s connecting to cloudcode-pa.googleapis.com")
    assert network.describe(ConnectionRefusedError(111, "refused"), url) == (
        "connection refused by cloudcode-pa.googleapis.com (nothing listens there)")
    import socket
    assert network.describe(socket.gaierror(-2, "Name or service not known"), url) == (
        "DNS lookup failed for cloudcode-pa.googleapis.com (no such host?)")


async def test_nothing_listening_is_refused(client) -> None:
    with pytest.raises(ConnectionRefusedError):
        await call(client, "http://127.0.0.1:9/x")


async def test_a_line_break_in_a_header_value_is_refused(client) -> None:
    with pytest.raises(ValueError, match="Authorization"):
        await client.request("POST", "http://127.0.0.1:9/", body=b"",
                             headers={"Authorization": "Bearer x\r\nX-Evil: 1"}, timeout=LIMITS)


async def test_close_ends_open_and_idle_connections(serve) -> None:
    server = await serve(keep_answering)
    c = wire.Client()
    assert await call(c, server.url) == b"/ {}"
    await c.close()
    for _ in range(100):
        if server.ended:
            break
        await asyncio.sleep(0.01)
    assert server.ended == 1


# --- proxies ------------------------------------------------------------------------------

@dataclass
class Proxy:
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    async def handle(self, peer: Peer) -> None:
        line, headers, _ = await peer.request()
        self.seen.append((line, headers))
        method, target, _ = line.split()
        if method != "CONNECT":  # a plain http URL: the proxy makes the call itself
            peer.answer(f"proxied {target}".encode(), extra="Connection: close\r\n")
            return
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        peer.writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await asyncio.gather(_pipe(peer.reader, up_writer), _pipe(up_reader, peer.writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


def _self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for 127.0.0.1 and a client context that trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    return server, ssl.create_default_context(cafile=str(tmp / "cert.pem"))


async def test_an_https_call_goes_through_a_connect_tunnel(serve, tmp_path) -> None:
    server_tls, client_tls = _self_signed(tmp_path)
    upstream = await serve(keep_answering, server_tls)
    proxy = Proxy()
    via = await serve(proxy.handle)
    proxy_url = via.url.replace("http://", "http://user:p%40ss@")
    async with wire.Client(client_tls) as c:
        assert await call(c, upstream.url + "/gen", b"hi", proxy=proxy_url) == b"/gen hi"
        assert await call(c, upstream.url + "/gen", b"again", proxy=proxy_url) == b"/gen again"
    port = upstream.url.rsplit(":", 1)[1]
    [(line, headers)] = proxy.seen  # one tunnel, kept alive
    assert line == f"CONNECT 127.0.0.1:{port} HTTP/1.1"
    assert headers["proxy-authorization"] == "Basic " + base64.b64encode(b"user:p@ss").decode()


async def test_an_http_call_is_sent_to_the_proxy_whole(serve, client) -> None:
    proxy = Proxy()
    via = await serve(proxy.handle)
    got = await call(client, "http://upstream.example:8080/v1/x?y=1", proxy=via.url)
    assert got == b"proxied http://upstream.example:8080/v1/x?y=1"
    [(_, headers)] = proxy.seen
    assert headers["host"] == "upstream.example:8080" and "proxy-authorization" not in headers


async def test_a_certificate_the_client_does_not_trust_fails_in_words(serve, tmp_path) -> None:
    server_tls, _ = _self_signed(tmp_path)
    upstream = await serve(keep_answering, server_tls)
    async with wire.Client() as c:  # the system's trust store: no self-signed certificate
        with pytest.raises(ssl.SSLError) as info:
            await call(c, upstream.url)
    assert network.describe(info.value, upstream.url).startswith("TLS error with 127.0.0.1")


async def test_an_https_proxy_carries_tls_inside_tls(serve, tmp_path) -> None:
    server_tls, client_tls = _self_signed(tmp_path)
    upstream = await serve(keep_answering, server_tls)
    proxy = Proxy()
    via = await serve(proxy.handle, server_tls)
    async with wire.Client(client_tls) as c:
        assert await call(c, upstream.url + "/gen", b"hi", proxy=via.url) == b"/gen hi"
    assert proxy.seen[0][0].startswith("CONNECT 127.0.0.1:")
