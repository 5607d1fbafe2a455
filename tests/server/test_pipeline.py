"""The request path against the simulator: fallback, token refresh, disabled accounts, rotation."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiohttp
import msgspec
import pytest

from antigravity_gateway.account_service import AccountService
from antigravity_gateway.accounts.store import AccountStore
from antigravity_gateway.app import build_app
from antigravity_gateway.providers import wire
from tests.fakes import capacity_exhausted, quota_exhausted, text
from tests.fakes.cloudcode import FakeGoogle

from .helpers import KEY, settings_with

AUTH = {"Authorization": f"Bearer {KEY}"}
CHAT = {"model": "gemini-3-flash", "messages": [{"role": "user", "content": "hi"}]}


def _settings(fake: FakeGoogle, **proxy):
    return settings_with(
        proxy={"auth_mode": "strict", **proxy},
        upstream={
            "cloudcode_base_urls": fake.cloudcode_base_urls,
            "oauth_token_url": fake.token_url,
            "userinfo_url": fake.userinfo_url,
            "oauth_client_id": fake.options.client_id,
            "oauth_client_secret": fake.options.client_secret,
        },
    )


async def _enroll(fake: FakeGoogle, tmp_path, *emails: str):
    settings = _settings(fake)
    async with aiohttp.ClientSession() as session, wire.Client() as upstream:
        service = AccountService(session, settings, AccountStore(tmp_path),
                                 upstream_client=upstream)
        for email in emails:
            fake.add_account(email, refresh_token=f"rt-{email}")
            await service.enroll(f"rt-{email}")
    return settings


@pytest.fixture
async def gateway(fake_google: FakeGoogle, tmp_path, aiohttp_client):
    settings = await _enroll(fake_google, tmp_path, "a@example.com", "b@example.com")
    return await aiohttp_client(build_app(settings, tmp_path))


async def _chat(client, **extra) -> aiohttp.ClientResponse:
    return await client.post("/v1/chat/completions", headers=AUTH, json={**CHAT, **extra})


async def test_base_url_fallback_on_5xx_and_network_errors(gateway, fake_google) -> None:
    fake_google.fail_host("sandbox", capacity_exhausted(status=503), times=1)
    fake_google.take_down("daily")
    resp = await _chat(gateway)
    assert resp.status == 200
    hosts = [r.host for r in fake_google.calls("streamGenerateContent")]
    assert hosts[0] == "sandbox" and hosts[-1] == "prod"
    fake_google.heal()


async def test_no_fallback_on_429_but_another_account(gateway, fake_google) -> None:
    fake_google.script(quota_exhausted("gemini-3-flash"), text("from the other account"))
    resp = await _chat(gateway)
    assert resp.status == 200
    assert (await resp.json())["choices"][0]["message"]["content"] == "from the other account"
    calls = fake_google.calls("streamGenerateContent")
    assert [c.host for c in calls] == ["sandbox", "sandbox"]
    assert calls[0].email != calls[1].email
    assert resp.headers["X-Account-Email"] == calls[1].email


async def test_expired_access_token_is_refreshed_on_401(gateway, fake_google) -> None:
    for email in ("a@example.com", "b@example.com"):
        fake_google.expire_access_tokens(email)
    resp = await _chat(gateway)
    assert resp.status == 200
    assert len(fake_google.calls("token")) >= 1
    statuses = [c.status for c in fake_google.calls("streamGenerateContent")]
    assert statuses == [401, 200]


async def test_invalid_grant_disables_and_moves_on(gateway, fake_google, tmp_path) -> None:
    fake_google.revoke("rt-a@example.com")
    fake_google.expire_access_tokens("a@example.com")
    store = AccountStore(tmp_path)
    for n in range(40):  # new conversations until one is tried on a (no stickiness)
        resp = await _chat(gateway, messages=[{"role": "user", "content": f"question {n}"}])
        assert resp.status == 200
        assert resp.headers["X-Account-Email"] == "b@example.com"
        if (stored := store.by_email("a@example.com")) is not None and stored.disabled:
            break
    dead = store.by_email("a@example.com")
    assert dead is not None and dead.disabled
    assert dead.disabled_reason.startswith("invalid_grant: ")
    assert not dead.disabled_reason.startswith("invalid_grant: invalid_grant")


async def test_400_is_not_retried(gateway, fake_google) -> None:
    from tests.fakes import Fault

    body = {"error": {"code": 400, "message": "Bad field x", "status": "INVALID_ARGUMENT"}}
    fake_google.script(Fault(400, body))
    resp = await _chat(gateway)
    assert resp.status == 400
    assert "Bad field x" in (await resp.json())["error"]["message"]
    assert len(fake_google.calls("streamGenerateContent")) == 1


async def test_signature_400_is_retried_once_without_signatures(gateway, fake_google) -> None:
    from tests.fakes import corrupted_thought_signature

    fake_google.script(corrupted_thought_signature(), text("recovered"))
    history = [
        {"role": "user", "content": "list"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "a.txt"},
    ]
    resp = await _chat(gateway, messages=history)
    assert resp.status == 200
    assert (await resp.json())["choices"][0]["message"]["content"] == "recovered"
    assert len(fake_google.calls("streamGenerateContent")) == 2


async def test_stream_broken_after_first_byte_ends_with_an_error_chunk(
    gateway, fake_google
) -> None:
    from tests.fakes import BrokenStream, Reply

    fake_google.script(Reply(text("a b c d", chunks=4), BrokenStream(after_chunks=2)))
    resp = await _chat(gateway, stream=True)
    assert resp.status == 200
    body = (await resp.read()).decode()
    assert '"content":"a' in body.replace(" ", "") or "a " in body
    assert '"error"' in body and body.rstrip().endswith("data: [DONE]")
    assert len(fake_google.calls("streamGenerateContent")) == 1


async def test_count_tokens_uses_the_upstream_and_grows(gateway, fake_google) -> None:
    from antigravity_gateway.core.messages import ChatRequest, Message, Text
    from antigravity_gateway.server.context import GATEWAY

    gw = gateway.server.app[GATEWAY]

    def request(words: int) -> ChatRequest:
        text_part = Text(text=" ".join(["word"] * words))
        return ChatRequest(
            model="gemini-3-flash",
            messages=(Message(role="user", parts=(text_part,)),),
            system=(Text(text="be brief"),),
        )

    small, large = await gw.count_tokens(request(10)), await gw.count_tokens(request(200))
    assert 0 < small < large
    [first, _] = fake_google.calls("countTokens")
    assert first.body["request"]["model"] == "models/gemini-3-flash"


async def test_tool_call_signatures_are_restored_for_clients_that_drop_them(
    gateway, fake_google
) -> None:
    from tests.fakes import tool_call

    fake_google.script([tool_call("ls", {"dir": "."})])
    first = await (await _chat(gateway, model="gemini-3.1-pro-low")).json()
    call = first["choices"][0]["message"]["tool_calls"][0]
    history = [
        {"role": "user", "content": "list"},
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "a.txt"},
    ]
    resp = await _chat(gateway, model="gemini-3.1-pro-low", messages=history)
    assert resp.status == 200
    replayed = fake_google.calls("streamGenerateContent")[-1].body["request"]["contents"][1]
    signature = replayed["parts"][0]["thoughtSignature"]
    assert signature and signature != "skip_thought_signature_validator"


async def test_error_answers_name_the_model_and_the_account(gateway, fake_google) -> None:
    from tests.fakes import Fault

    body = {"error": {"code": 400, "message": "Bad field x", "status": "INVALID_ARGUMENT"}}
    fake_google.script(Fault(400, body))
    resp = await _chat(gateway, model="gpt-4o")
    assert resp.status == 400
    assert resp.headers["X-Mapped-Model"] == "gemini-3-flash"
    assert resp.headers["X-Account-Email"] in ("a@example.com", "b@example.com")
    assert resp.headers["X-Request-Id"]


async def _forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   seen: list[str]) -> None:
    """A forwarding HTTP proxy for one absolute-form request (`POST http://host:port/path`)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    method, url, version = head[0].split()
    seen.append(f"{method} {url}")
    target = urlsplit(url)
    headers = [h for h in head[1:] if h and not h.lower().startswith(("proxy-", "connection"))]
    length = next((int(h.split(":", 1)[1]) for h in headers
                   if h.lower().startswith("content-length:")), 0)
    body = await reader.readexactly(length)
    up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
    path = target.path + (f"?{target.query}" if target.query else "")
    up_writer.write("\r\n".join([f"{method} {path} {version}", *headers, "Connection: close",
                                 "", ""]).encode("latin-1") + body)
    while data := await up_reader.read(65536):
        writer.write(data)
    up_writer.close()
    writer.close()


async def test_upstream_calls_go_through_the_configured_proxy(
    fake_google, tmp_path, aiohttp_client
) -> None:
    settings = await _enroll(fake_google, tmp_path, "a@example.com")
    seen: list[str] = []
    proxy = await asyncio.start_server(lambda r, w: _forward(r, w, seen), "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    upstream = msgspec.structs.replace(settings.upstream, proxy_url=f"http://127.0.0.1:{port}")
    client = await aiohttp_client(build_app(msgspec.structs.replace(settings, upstream=upstream),
                                            tmp_path))
    resp = await _chat(client)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["choices"][0]["message"]["content"]
    assert any(line.startswith("POST http://127.0.0.1:") and "streamGenerateContent" in line
               for line in seen), seen
    proxy.close()
