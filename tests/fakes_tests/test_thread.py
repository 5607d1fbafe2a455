"""The threaded runner (for synchronous tests) and the standalone command."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.fakes import FakeGoogle, text

ROOT = Path(__file__).resolve().parents[2]


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _refresh(
    token_url: str, refresh_token: str, client_id: str, secret: str | None
) -> tuple[int, bytes]:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    form["client_secret"] = secret or ""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return _post(token_url, urllib.parse.urlencode(form).encode(), headers)


def test_threaded_fake_serves_sync_clients_and_accepts_scripts(
    fake_google_thread: FakeGoogle,
) -> None:
    fake = fake_google_thread
    fake.add_account("sync@example.com", refresh_token="rt-sync")
    status, raw = _refresh(
        fake.token_url, "rt-sync", fake.options.client_id, fake.options.client_secret
    )
    assert status == 200
    headers = {
        "Authorization": "Bearer " + json.loads(raw)["access_token"],
        "Content-Type": "application/json",
    }
    fake.script(text("from the test thread"))
    body = json.dumps(
        {
            "model": "gemini-2.5-flash",
            "request": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        }
    )
    status, raw = _post(
        fake.cloudcode_base_urls[1] + "/v1internal:generateContent", body.encode(), headers
    )
    assert (
        status == 200
        and json.loads(raw)["response"]["candidates"][0]["content"]["parts"][0]["text"]
        == "from the test thread"
    )
    assert [r.host for r in fake.calls("generateContent")] == ["daily"]


def test_cloudcode_base_urls_order(fake_google_thread: FakeGoogle) -> None:
    base = fake_google_thread.base_url
    assert fake_google_thread.cloudcode_base_urls == [
        f"{base}/sandbox",
        f"{base}/daily",
        f"{base}/prod",
    ]
    assert fake_google_thread.userinfo_url == f"{base}/oauth2/v2/userinfo"


def test_standalone_command_prints_addresses() -> None:
    command = [
        sys.executable,
        "-m",
        "tests.fakes.cloudcode",
        "--port",
        "0",
        "--accounts",
        "2",
        "--json",
    ]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:
        try:
            info = json.loads(process.stdout.readline())
            status = _refresh(
                info["token_url"], "fake-refresh-2", info["client_id"], info["client_secret"]
            )[0]
        finally:
            process.terminate()
    assert info["accounts"] == {
        "user1@example.com": "fake-refresh-1",
        "user2@example.com": "fake-refresh-2",
    }
    assert status == 200
