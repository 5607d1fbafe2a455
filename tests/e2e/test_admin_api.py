"""The admin API through the running gateway (`agm serve`): every route the README lists, its
auth rule, its `{"error"}` answers to bad input (and that they change nothing), and settings
applied without a restart. Requests are made with the openai SDK and urllib, as a script would.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator

import openai
import pytest

from tests.e2e.gateway import API_KEY, Gateway
from tests.e2e.webclient import Api
from tests.fakes import invalid_argument
from tests.fakes.cloudcode import FakeGoogle

FLASH = "gemini-3-flash"
AUTH = {"x-api-key": API_KEY}


@pytest.fixture(scope="module")
def api(gateway: Gateway) -> Iterator[Api]:
    with Api(gateway.url, AUTH) as client:
        yield client


@pytest.fixture(scope="module")
def chat(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)


def ask(chat: openai.OpenAI, content: str, model: str = FLASH, **extra: object):
    return chat.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": content}], **extra)


def logged(api: Api, count: int, **query: object) -> dict:
    """`GET /api/logs` once at least `count` rows match (the writer is asynchronous)."""
    deadline = time.monotonic() + 10
    while True:
        body = api.get("/api/logs", params=query).json()
        if body["total"] >= count or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def settled(api: Api) -> int:
    """The row count once every request made so far is written (it stops changing)."""
    last = -1
    while (total := api.get("/api/logs").json()["total"]) != last:
        last = total
        time.sleep(0.3)  # more than the writer's batching interval
    return total


def config_bytes(gateway: Gateway) -> bytes:
    return (gateway.data_dir / "config.toml").read_bytes()


# ---- auth ------------------------------------------------------------------------------------

def test_health_needs_no_key_and_everything_else_does(gateway: Gateway) -> None:
    with Api(gateway.url) as anonymous:
        assert anonymous.get("/api/health").json() == {"status": "ok"}
        for method, path in [("GET", "/api/status"), ("GET", "/api/logs"), ("GET", "/api/stats"),
                             ("PATCH", "/api/config"), ("DELETE", "/api/logs"),
                             ("GET", "/api/nothing-here"), ("GET", "/metrics")]:
            resp = anonymous.request(method, path)
            assert resp.status_code == 401, path
            if path.startswith("/api/"):
                assert "error" in resp.json()
        wrong = anonymous.get("/api/status", headers={"Authorization": "Bearer sk-wrong-key-123"})
        assert wrong.status_code == 401 and "invalid" in wrong.json()["error"]
        for header in ({"Authorization": f"Bearer {API_KEY}"}, {"x-goog-api-key": API_KEY}):
            assert anonymous.get("/api/status", headers=header).status_code == 200


def test_admin_password_replaces_the_api_key_for_the_admin_api_only(
    api: Api, gateway: Gateway, chat: openai.OpenAI
) -> None:
    assert api.patch("/api/config", json={"proxy.admin_password": "pw-admin-1"}).status_code == 200
    try:
        assert api.get("/api/status").status_code == 401
        assert api.get("/api/status", headers={"x-api-key": "pw-admin-1"}).status_code == 200
        assert ask(chat, "proxy routes keep the api key").status_code == 200
    finally:
        reset = api.patch("/api/config", json={"proxy.admin_password": None},
                          headers={"x-api-key": "pw-admin-1"})
        assert reset.status_code == 200
    assert api.get("/api/status").status_code == 200


def test_unknown_routes_and_methods_are_json_errors(api: Api) -> None:
    missing = api.get("/api/nothing-here")
    assert missing.status_code == 404 and "error" in missing.json()
    wrong = api.put("/api/logs")
    assert wrong.status_code == 405 and "error" in wrong.json()


# ---- status, logs, stats ---------------------------------------------------------------------

def test_status(api: Api, gateway: Gateway) -> None:
    body = api.get("/api/status").json()
    assert body["version"] and body["uptime_s"] >= 0
    assert body["port"] == gateway.port and body["base_url"] == gateway.url
    assert body["auth_mode"] == "strict"
    assert body["accounts"] == {"total": 2, "usable": 2}
    assert set(body["requests"]) == {"total", "errors"} and body["active_streams"] == 0


def test_logs_paging_filters_and_detail(
    api: Api, chat: openai.OpenAI, fake: FakeGoogle
) -> None:
    before = settled(api)
    for n in range(5):
        ask(chat, f"paging-{n}")
    for _ in ask(chat, "streamed-one", stream=True).parse():  # read to the end
        pass
    fake.script_for(invalid_argument("bad thing"), model=FLASH)
    with pytest.raises(openai.BadRequestError):
        ask(chat, "failing-one")
    body = logged(api, before + 7)
    assert body["total"] == before + 7
    rows = body["logs"]
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    assert "request_body" not in rows[0] and "response_body" not in rows[0]
    page = api.get("/api/logs", params={"limit": 2}).json()["logs"]
    older = api.get("/api/logs", params={"limit": 2, "before": page[-1]["id"]}).json()["logs"]
    assert len(page) == len(older) == 2 and older[0]["id"] < page[-1]["id"]

    errors = api.get("/api/logs", params={"errors": 1}).json()
    assert errors["total"] >= 1 and all(r["status"] >= 400 for r in errors["logs"])
    failed = errors["logs"][0]
    assert failed["status"] == 400 and "bad thing" in failed["error"]
    assert api.get("/api/logs", params={"status": 400}).json()["total"] == errors["total"]
    found = api.get("/api/logs", params={"q": "bad thing"}).json()
    assert found["total"] >= 1
    by_account = api.get("/api/logs", params={"account": rows[0]["account_email"]}).json()
    assert all(r["account_email"] == rows[0]["account_email"] for r in by_account["logs"])
    assert api.get("/api/logs", params={"model": FLASH}).json()["total"] >= 7
    assert api.get("/api/logs", params={"protocol": "openai"}).json()["total"] >= 7
    assert api.get("/api/logs", params={"protocol": "gemini"}).json()["total"] == 0

    streamed = next(r for r in rows if r["stream"])
    detail = api.get(f"/api/logs/{streamed['id']}").json()
    assert "streamed-one" in detail["request_body"]
    answer = json.loads(detail["response_body"])  # the assembled answer, not SSE frames
    assert answer["text"] == f"Hello from {FLASH}." and "data:" not in detail["response_body"]
    assert detail["output_tokens"] > 0 and detail["attempts"] == 1


@pytest.mark.parametrize("query", [
    {"limit": -1}, {"limit": 0}, {"limit": 501}, {"limit": "x"}, {"before": "zzz"},
    {"errors": "maybe"}, {"protocol": "ftp"}, {"status": "abc"},
])
def test_bad_log_queries_are_400(api: Api, query: dict) -> None:
    resp = api.get("/api/logs", params=query)
    assert resp.status_code == 400
    assert next(iter(query)) in resp.json()["error"]


def test_log_detail_not_found(api: Api) -> None:
    assert api.get("/api/logs/999999").status_code == 404
    assert api.get("/api/logs/abc").status_code in (400, 404)


def test_stats_buckets(api: Api, chat: openai.OpenAI) -> None:
    ask(chat, "stats")
    logged(api, 1)
    totals = None
    for by in ("hour", "day", "account", "model", "protocol"):
        buckets = api.get("/api/stats", params={"by": by}).json()["buckets"]
        assert buckets and set(buckets[0]) == {
            "key", "requests", "errors", "input_tokens", "output_tokens", "cached_tokens"}
        summed = tuple(sum(b[f] for b in buckets) for f in ("requests", "input_tokens"))
        assert totals is None or summed == totals
        totals = summed
    future = api.get("/api/stats", params={"by": "day", "since": int(time.time()) + 7200})
    assert future.json() == {"buckets": []}
    assert api.get("/api/stats", params={"by": "week"}).status_code == 400
    assert api.get("/api/stats", params={"since": "yesterday"}).status_code == 400


def test_live_log_stream(api: Api, gateway: Gateway, chat: openai.OpenAI) -> None:
    received: list[dict] = []

    def read() -> None:
        lines = api.lines("/api/logs/stream")
        assert next(lines).startswith("content-type: text/event-stream")
        for line in lines:
            if line.startswith("data: "):
                received.append(json.loads(line[6:]))
                lines.close()
                return

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(0.5)
    ask(chat, "live-row")
    reader.join(10)
    assert received and received[0]["path"] == "/v1/chat/completions"
    assert "request_body" not in received[0]


def test_clear_logs_keeps_stats(api: Api, chat: openai.OpenAI) -> None:
    ask(chat, "to be cleared")
    settled(api)
    requests_before = sum(b["requests"] for b in api.get("/api/stats").json()["buckets"])
    assert api.delete("/api/logs").status_code == 200
    assert api.get("/api/logs").json() == {"logs": [], "total": 0}
    assert sum(b["requests"] for b in api.get("/api/stats").json()["buckets"]) == requests_before


def test_credentials_never_reach_the_database(
    api: Api, chat: openai.OpenAI, gateway: Gateway
) -> None:
    ask(chat, f"my key is {API_KEY} and my token ya29.a0AfH6SMBsecret-token")
    logged(api, 1, q="/v1/chat")
    time.sleep(0.3)
    with sqlite3.connect(gateway.data_dir / "monitor.db") as conn:
        dump = "\n".join(conn.iterdump())
    assert "my key is" in dump
    assert API_KEY not in dump and "ya29.a0AfH6SMBsecret" not in dump


# ---- accounts --------------------------------------------------------------------------------

def test_accounts_list_disable_enable(
    api: Api, gateway: Gateway, chat: openai.OpenAI
) -> None:
    accounts = api.get("/api/accounts").json()["accounts"]
    assert len(accounts) == 2
    first = accounts[0]
    assert set(first) >= {"id", "email", "tier", "project_id", "enabled", "disabled_reason",
                          "quota", "cooldowns", "last_used"}
    assert first["quota"]["models"] and set(first["quota"]["models"][0]) == {
        "name", "percentage", "reset_time"}
    off = api.post(f"/api/accounts/{first['email']}/disable").json()
    assert off["enabled"] is False and off["disabled_reason"]
    served = {ask(chat, f"while disabled {n}").headers["X-Account-Email"] for n in range(6)}
    assert served == {accounts[1]["email"]}
    on = api.post(f"/api/accounts/{first['id']}/enable").json()
    assert on["enabled"] is True
    assert api.post("/api/accounts/nobody@example.com/disable").status_code == 404


def test_accounts_add_refresh_remove(
    api: Api, gateway: Gateway, fake: FakeGoogle
) -> None:
    fake.add_account("added@example.com", refresh_token="rt-added")
    assert api.post("/api/accounts", json={"token": "x"}).status_code == 400
    assert api.post("/api/accounts", content=b"{not json").status_code == 400
    created = api.post("/api/accounts", json={"refreshToken": "rt-added"})
    assert created.status_code == 201 and created.json()["email"] == "added@example.com"
    assert len(api.get("/api/accounts").json()["accounts"]) == 3
    refreshed = api.post("/api/accounts/refresh").json()["accounts"]
    assert len(refreshed) == 3 and all(r["ok"] for r in refreshed)
    assert api.delete("/api/accounts/added@example.com").status_code == 200
    emails = [a["email"] for a in api.get("/api/accounts").json()["accounts"]]
    assert "added@example.com" not in emails
    assert api.delete("/api/accounts/added@example.com").status_code == 404


def test_clear_cooldowns(api: Api) -> None:
    assert "cleared" in api.delete("/api/cooldowns").json()
    assert all(not a["cooldowns"] for a in api.get("/api/accounts").json()["accounts"])


# ---- config ----------------------------------------------------------------------------------

def test_config_is_masked(api: Api) -> None:
    shown = api.get("/api/config").json()
    assert shown["proxy"]["api_key"] != API_KEY and shown["proxy"]["api_key"].startswith("sk-")
    assert API_KEY not in json.dumps(shown)


def test_mapping_change_is_used_by_the_very_next_request(
    api: Api, chat: openai.OpenAI, gateway: Gateway
) -> None:
    changed = api.patch("/api/config",
                        json={"models.custom_mapping.my-alias": "gemini-2.5-flash"})
    assert changed.status_code == 200 and changed.json()["restart_required"] is False
    raw = ask(chat, "mapped", model="my-alias")
    assert raw.headers["X-Mapped-Model"] == "gemini-2.5-flash"
    assert 'my-alias' in config_bytes(gateway).decode()
    api.patch("/api/config", json={"models.custom_mapping.my-alias": None})
    assert "my-alias" not in config_bytes(gateway).decode()


@pytest.mark.parametrize("body", [
    {"proxy.request_timeout": "soon"},
    {"proxy.auth_mode": "sometimes"},
    {"proxy.nonsense": 1},
    {"models.custom_mapping.ok": "fine", "proxy.port": -5},
    [],
    {},
])
def test_bad_config_changes_nothing(api: Api, gateway: Gateway, body: object) -> None:
    before, shown = config_bytes(gateway), api.get("/api/config").json()
    resp = api.patch("/api/config", json=body)
    assert resp.status_code == 400 and resp.json()["error"]
    if isinstance(body, dict) and body:
        assert any(key.split(".")[-1] in resp.json()["error"] for key in body)
    assert config_bytes(gateway) == before and api.get("/api/config").json() == shown


def test_bad_json_changes_nothing(api: Api, gateway: Gateway) -> None:
    before = config_bytes(gateway)
    resp = api.patch("/api/config", content=b"{proxy.port: 1")
    assert resp.status_code == 400 and "JSON" in resp.json()["error"]
    assert config_bytes(gateway) == before


def test_timeouts_and_scheduling_apply_and_port_needs_restart(
    api: Api, gateway: Gateway
) -> None:
    resp = api.patch("/api/config", json={"proxy.request_timeout": 120,
                                          "scheduling.mode": "round_robin"})
    assert resp.status_code == 200 and resp.json()["restart_required"] is False
    shown = api.get("/api/config").json()
    assert shown["proxy"]["request_timeout"] == 120
    assert shown["scheduling"]["mode"] == "round_robin"
    port = api.patch("/api/config", json={"proxy.port": gateway.port + 1})
    assert port.json()["restart_required"] is True
    api.patch("/api/config", json={"proxy.port": gateway.port, "scheduling.mode": "balance"})


def test_upstream_urls_apply_at_once(
    api: Api, chat: openai.OpenAI, fake: FakeGoogle
) -> None:
    urls = fake.cloudcode_base_urls
    assert api.patch("/api/config", json={"upstream.cloudcode_base_urls": urls[-1:]}).json()[
        "restart_required"] is False
    try:
        fake.clear_received()
        ask(chat, "only the last base URL")
        assert {c.host for c in fake.calls("streamGenerateContent")} == {"prod"}
    finally:
        api.patch("/api/config", json={"upstream.cloudcode_base_urls": urls})


def test_auth_mode_change_applies_at_once(api: Api, gateway: Gateway) -> None:
    with Api(gateway.url) as anonymous:
        assert anonymous.get("/v1/models").status_code == 401
        api.patch("/api/config", json={"proxy.auth_mode": "off"})
        try:
            assert anonymous.get("/v1/models").status_code == 200
            assert anonymous.get("/api/status").status_code == 401  # admin: always a key
        finally:
            api.patch("/api/config", json={"proxy.auth_mode": "strict"})
        assert anonymous.get("/v1/models").status_code == 401


def test_metrics_behind_auth(api: Api) -> None:
    resp = api.get("/metrics")
    assert resp.status_code == 200 and "agm_requests_total" in resp.text


def test_regenerate_key_last(api: Api, gateway: Gateway, fake: FakeGoogle) -> None:
    new = api.post("/api/key/regenerate").json()["api_key"]
    assert new.startswith("sk-") and new != API_KEY
    assert api.get("/api/status").status_code == 401
    assert api.get("/api/status", headers={"x-api-key": new}).status_code == 200
    assert new in config_bytes(gateway).decode()
