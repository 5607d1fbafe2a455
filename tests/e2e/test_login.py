"""`agm accounts login --no-browser` as a process, with this test playing the browser.

The test reads the printed authorization URL, follows the simulator's consent page (a redirect
back to the command's loopback callback) and checks what the command prints and writes. Also the
paste path (the redirected URL on stdin), and that a wrong state, access_denied and a timeout
leave the data dir exactly as it was.
"""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import openai
import pytest

from tests.e2e.gateway import API_KEY, Gateway, agm, free_port, write_config
from tests.fakes.cloudcode import FakeGoogle

EMAIL = "signin@example.com"
# no proxies: the test's "browser" talks to loopback only
BROWSER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
NO_REDIRECT = urllib.request.build_opener(
    urllib.request.ProxyHandler({}),
    type("Stay", (urllib.request.HTTPRedirectHandler,), {
        "redirect_request": lambda *args, **kw: None})())


@dataclass
class Login:
    process: subprocess.Popen[str]
    url: str

    @property
    def query(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.url).query))

    def finish(self, stdin: str | None = None) -> tuple[int, str, str]:
        out, err = self.process.communicate(stdin, timeout=60)
        return self.process.returncode, out, err


def start_login(data_dir: Path, *args: str) -> Login:
    process = subprocess.Popen(
        [sys.executable, "-m", "antigravity_gateway", "accounts", "login", "--no-browser", *args],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "AGM_DATA_DIR": str(data_dir)},
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("http://"), (line, process.stderr.read() if process.stderr else "")
    return Login(process, line)


def consent_redirect(url: str) -> str:
    """What the simulator's consent page redirects the browser to (not followed)."""
    try:
        NO_REDIRECT.open(url, timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302, exc.code
        return str(exc.headers["Location"])
    raise AssertionError("the consent page did not redirect")


def browse(url: str) -> tuple[int, str]:
    try:
        with BROWSER.open(url, timeout=30) as page:
            return page.status, page.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def snapshot(data_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(data_dir)): p.read_bytes()
            for p in sorted(data_dir.rglob("*")) if p.is_file()}


@pytest.fixture
def data_dir(fake: FakeGoogle, tmp_path: Path) -> Iterator[Path]:
    fake.add_account(EMAIL, quota={"gemini-3-flash": 0.75})
    fake.sign_in_as(EMAIL)
    write_config(tmp_path, fake, free_port())
    yield tmp_path
    fake.sign_in_as(None)


def test_login_in_the_browser_adds_the_account_and_serves(fake: FakeGoogle,
                                                           data_dir: Path) -> None:
    login = start_login(data_dir)
    query = login.query
    assert login.url.startswith(fake.auth_url + "?")
    assert query["client_id"] == fake.options.client_id
    assert query["redirect_uri"].startswith("http://127.0.0.1:")
    assert query["redirect_uri"].endswith("/oauth-callback")
    assert (query["response_type"], query["access_type"], query["prompt"]) == (
        "code", "offline", "consent")
    assert query["scope"].split()[0] == "openid" and len(query["scope"].split()) == 6
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32

    status, page = browse(login.url)  # consent page -> callback on the command's port
    assert status == 200 and f"Signed in as {EMAIL}" in page
    code, out, err = login.finish()
    assert code == 0, err
    assert out.splitlines()[-1].startswith(f"added {EMAIL} (tier: ")
    token_call = fake.calls("token", email=EMAIL)[-1]
    assert token_call.body["grant_type"] == "authorization_code"
    assert token_call.body["redirect_uri"] == query["redirect_uri"]

    listed = json.loads(agm(data_dir, "accounts", "list", "--json").stdout)
    assert [a["email"] for a in listed] == [EMAIL] and listed[0]["status"] == "active"
    assert listed[0]["quota"]["models"]["gemini-3-flash"]["percentage"] == 75
    gateway = Gateway.start(fake, data_dir, accounts=0)
    try:
        client = openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)
        answer = client.chat.completions.with_raw_response.create(
            model="gemini-3-flash", messages=[{"role": "user", "content": "hi"}])
        assert answer.headers["X-Account-Email"] == EMAIL
        assert answer.parse().choices[0].message.content
    finally:
        gateway.stop()


def test_paste_the_redirected_url(fake: FakeGoogle, data_dir: Path) -> None:
    login = start_login(data_dir)
    redirected = consent_redirect(login.url)  # the browser could not reach the port
    forged = redirected.replace(f"state={login.query['state']}", "state=forged")
    code, out, err = login.finish(stdin=f"{forged}\n{redirected}\n")
    assert code == 0, err
    assert f"added {EMAIL}" in out
    assert "note: that is not the answer to this sign-in" in err  # the forged one, skipped
    again = start_login(data_dir)  # a bare code works too; the account is updated, not doubled
    bare = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
        consent_redirect(again.url)).query))["code"]
    code, out, err = again.finish(stdin=bare + "\n")
    assert code == 0, err
    assert f"updated {EMAIL}" in out
    assert len(list((data_dir / "accounts").glob("*.json"))) == 1


def test_wrong_state_is_refused_and_the_login_keeps_waiting(fake: FakeGoogle,
                                                           data_dir: Path) -> None:
    before = snapshot(data_dir)
    login = start_login(data_dir, "--timeout", "8")
    redirect = login.query["redirect_uri"]
    status, page = browse(f"{redirect}?code=forged&state=not-the-state")
    assert status == 400 and "state does not match" in page
    status, _ = browse(f"{redirect}?code=forged")  # missing state
    assert status == 400
    code, out, err = login.finish()  # still waiting until the timeout
    assert code == 1 and err.strip().splitlines()[-1] == "error: no sign-in within 8 seconds"
    assert snapshot(data_dir) == before


def test_access_denied_ends_with_one_line(fake: FakeGoogle, data_dir: Path) -> None:
    before = snapshot(data_dir)
    fake.refuse_sign_in()
    login = start_login(data_dir)
    status, page = browse(login.url)
    assert status == 400 and "access_denied" in page
    code, out, err = login.finish()
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "error: Google refused the sign-in: access_denied")
    assert snapshot(data_dir) == before


def test_timeout_writes_nothing_and_the_callback_server_is_gone(data_dir: Path) -> None:
    before = snapshot(data_dir)
    login = start_login(data_dir, "--timeout", "1")
    callback = urllib.parse.urlsplit(login.query["redirect_uri"])
    assert callback.hostname == "127.0.0.1"
    code, out, err = login.finish()
    assert code == 1 and err.strip().splitlines()[-1] == "error: no sign-in within 1 seconds"
    assert snapshot(data_dir) == before
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", callback.port or 0), timeout=5).close()


def test_export_warns_on_a_terminal(data_dir: Path) -> None:
    main, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "antigravity_gateway", "accounts", "export"],
            stdout=secondary, stderr=subprocess.PIPE, text=True, timeout=60,
            env={**os.environ, "AGM_DATA_DIR": str(data_dir)})
    finally:
        os.close(secondary)
        os.close(main)
    assert done.returncode == 0
    assert done.stderr.startswith("warning: this output holds refresh tokens")
