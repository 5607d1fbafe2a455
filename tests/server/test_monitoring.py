"""The monitor's middleware in process: a proxied request's row, metrics and access line come
after its answer is sent, so they are no part of the client's wait (a hang-up's 499:
test_connections.py)."""

from __future__ import annotations

import pytest
from aiohttp import web

from antigravity_gateway.app import build_app
from antigravity_gateway.monitor.record import Record
from antigravity_gateway.server.monitoring import MONITOR
from tests.fakes.cloudcode import FakeGoogle

from .helpers import KEY, seed_account, settings_with

AUTH = {"Authorization": f"Bearer {KEY}"}
CHAT = {"model": "gemini-3-flash", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
async def client(fake_google: FakeGoogle, tmp_path, aiohttp_client):
    account = fake_google.add_account("a@example.com", refresh_token="rt-a")
    seed_account(tmp_path, "a@example.com", models=("gemini-3-flash",), refresh_token="rt-a",
                 access_token=fake_google.issue_token("a@example.com"), project=account.project)
    settings = settings_with(
        proxy={"auth_mode": "strict", "max_wait_seconds": 0},
        upstream={"cloudcode_base_urls": fake_google.cloudcode_base_urls,
                  "oauth_token_url": fake_google.token_url,
                  "userinfo_url": fake_google.userinfo_url},
    )
    return await aiohttp_client(build_app(settings, tmp_path))


async def test_the_record_is_finished_after_the_answer_is_sent(client, monkeypatch) -> None:
    order: list[str] = []
    sent = web.Response.write_eof

    async def write_eof(self: web.Response, data: bytes = b"") -> None:
        await sent(self, data)
        if "X-Request-Id" in self.headers:  # the gateway's answer, not the simulator's
            order.append("sent")

    monkeypatch.setattr(web.Response, "write_eof", write_eof)
    monitor = client.app[MONITOR]
    finish = monitor.finish

    def finished(record: Record) -> None:
        order.append(f"finished {record.path} {record.status}")
        finish(record)

    monkeypatch.setattr(monitor, "finish", finished)
    resp = await client.post("/v1/chat/completions", json=CHAT, headers=AUTH)
    assert resp.status == 200 and (await resp.json())["object"] == "chat.completion"
    assert order == ["sent", "finished /v1/chat/completions 200"]
    assert monitor.requests_total == 1  # counted before the client's next request is read
