"""Rows for what is not a chat request: a scheduled warmup (no HTTP request at all) and
`POST /internal/warmup` each give one `warmup` row with the account and the tokens."""

from __future__ import annotations

import time
from pathlib import Path

from tests.e2e.gateway import API_KEY, Gateway
from tests.e2e.webclient import Api
from tests.fakes.cloudcode import FakeGoogleThread


def test_warmups_are_logged(tmp_path: Path) -> None:
    with FakeGoogleThread() as fake:
        sections: dict[str, object] = {
            "warmup": {"enabled": True, "models": ["gemini-3-flash"], "interval_minutes": 60}}
        gateway = Gateway.start(fake, tmp_path / "agm", accounts=2, sections=sections)
        try:
            api = Api(gateway.url, {"x-api-key": API_KEY})
            deadline = time.monotonic() + 30
            while api.get("/api/logs").json()["total"] < 2 and time.monotonic() < deadline:
                time.sleep(0.2)
            scheduled = api.get("/api/logs", params={"protocol": "warmup"}).json()["logs"]
            assert {r["account_email"] for r in scheduled} == set(gateway.emails)
            assert all(r["status"] == 200 and r["model"] == "gemini-3-flash"
                       and r["output_tokens"] > 0 and r["attempts"] == 1 for r in scheduled)
            asked = api.post("/internal/warmup",
                             json={"email": gateway.emails[0], "model": "gemini-2.5-flash"})
            assert asked.status_code == 200
            time.sleep(0.5)
            rows = api.get("/api/logs", params={"model": "gemini-2.5-flash"}).json()["logs"]
            assert len(rows) == 1 and rows[0]["protocol"] == "warmup"
            assert rows[0]["path"] == "/internal/warmup"
            assert rows[0]["account_email"] == gateway.emails[0]
        finally:
            gateway.stop()
