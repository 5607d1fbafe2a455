"""The dashboard in a real browser: sign-in, accounts, live monitor, mapping editor, Google sign-in.

Each test drives Chromium against `agm serve` (the simulator as Google) and the real openai SDK
for the traffic the pages show. Every request the page makes must stay on the gateway's origin.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest
import requests

from tests.e2e.gateway import API_KEY, Gateway
from tests.fakes import text
from tests.fakes.cloudcode import FakeGoogle

WIDTHS = {"desktop": (1280, 860), "phone": (390, 844)}


class Dashboard:
    """One signed-in browser page, recording where its requests went."""

    def __init__(self, page: Any, gateway: Gateway) -> None:
        self.page, self.gateway = page, gateway
        self.hosts: set[str] = set()
        self.errors: list[str] = []
        page.on("request", lambda r: self.hosts.add(urlsplit(r.url).netloc))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:  # the page broke its own CSP
            self.errors.append(message.text)

    def open(self) -> Dashboard:
        self.page.goto(self.gateway.url + "/ui/")
        return self

    def sign_in(self, password: str = API_KEY) -> Dashboard:
        self.page.fill("#password", password)
        self.page.click("#signin")
        return self

    def go(self, name: str) -> None:
        self.page.click(f"#nav-{name}")

    def assert_stayed_local(self) -> None:
        outside = {h for h in self.hosts if h and h != f"127.0.0.1:{self.gateway.port}"}
        assert not outside, f"the page reached {outside}"
        assert not self.errors, self.errors


@pytest.fixture
def dash(browser: Any, gateway: Gateway) -> Iterator[Dashboard]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(10_000)
    dashboard = Dashboard(page, gateway)
    yield dashboard
    dashboard.assert_stayed_local()
    context.close()


@pytest.fixture
def client(gateway: Gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.url + "/v1", api_key=API_KEY, max_retries=0)


def test_wrong_password_is_refused(dash: Dashboard) -> None:
    dash.open().sign_in("sk-not-the-key")
    dash.page.wait_for_selector("#signin-error:has-text('wrong password')")
    assert dash.page.is_visible("#signin")
    assert not dash.page.context.cookies()


def test_session_cookie_is_httponly_and_strict(dash: Dashboard) -> None:
    dash.open().sign_in()
    dash.page.wait_for_selector("#nav-Accounts")
    [cookie] = dash.page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"


def test_changes_need_the_csrf_token(dash: Dashboard, gateway: Gateway) -> None:
    dash.open().sign_in()
    dash.page.wait_for_selector("#nav-Accounts")
    [cookie] = dash.page.context.cookies()
    jar = {cookie["name"]: cookie["value"]}
    with requests.Session() as http:
        http.cookies.update(jar)
        assert http.get(gateway.url + "/api/status").status_code == 200
        refused = http.patch(gateway.url + "/api/config", json={"proxy.max_attempts": 2})
        assert refused.status_code == 401
    assert "max_attempts = 2" not in (gateway.data_dir / "config.toml").read_text()


def test_accounts_page_shows_quota_bars(dash: Dashboard, gateway: Gateway) -> None:
    dash.open().sign_in()
    for email in gateway.emails:
        dash.page.wait_for_selector(f"tr[data-email='{email}'] .bar .fill")
    assert dash.page.locator("#accounts-table .bar-row").count() >= 2


def test_request_appears_live_with_its_detail(
    dash: Dashboard, client: openai.OpenAI, fake: FakeGoogle
) -> None:
    dash.open().sign_in()
    dash.go("Monitor")
    dash.page.wait_for_selector(".live")
    fake.script(text("Paris is the capital of France."))
    client.chat.completions.create(
        model="gemini-3-flash", messages=[{"role": "user", "content": "Capital of France?"}]
    )
    row = dash.page.wait_for_selector(
        "#logs-table tbody tr:has-text('gemini-3-flash')", timeout=2000
    )
    row.click()
    dash.page.wait_for_selector("#detail-request:has-text('Capital of France?')")
    assert "Paris is the capital" in dash.page.inner_text("#detail-response")


def test_mapping_editor_rule_is_used_by_the_next_request(
    dash: Dashboard, client: openai.OpenAI, fake: FakeGoogle
) -> None:
    dash.open().sign_in()
    dash.go("API")
    dash.page.fill("#map-from", "browser-model")
    dash.page.fill("#map-to", "gemini-3.1-pro-low")
    dash.page.wait_for_selector("#map-resolved:has-text('gemini-3.1-pro-low')")
    dash.page.click("#map-save")
    dash.page.wait_for_selector("#mapping-editor code:has-text('browser-model')")
    fake.script(text("mapped"))
    done = client.chat.completions.with_raw_response.create(
        model="browser-model", messages=[{"role": "user", "content": "hi"}]
    )
    assert done.headers["X-Mapped-Model"] == "gemini-3.1-pro-low"


def test_disabling_an_account_moves_traffic(
    dash: Dashboard, client: openai.OpenAI, fake: FakeGoogle, gateway: Gateway
) -> None:
    first, second = gateway.emails
    dash.open().sign_in()
    row = dash.page.wait_for_selector(f"tr[data-email='{first}']")
    dash.page.on("dialog", lambda d: d.accept())
    row.query_selector("button:has-text('Disable')").click()
    dash.page.wait_for_selector(f"tr[data-email='{first}'] .bad:has-text('disabled')")
    try:
        for _ in range(3):
            fake.script(text("ok"))
            done = client.chat.completions.with_raw_response.create(
                model="gemini-3-flash", messages=[{"role": "user", "content": f"hi {time.time()}"}]
            )
            assert done.headers["X-Account-Email"] == second
    finally:
        dash.page.click(f"tr[data-email='{first}'] button:has-text('Enable')")
        dash.page.wait_for_selector(f"tr[data-email='{first}'] .good")


def test_google_sign_in_adds_an_account(
    dash: Dashboard, fake: FakeGoogle, gateway: Gateway
) -> None:
    fake.add_account("browser-signin@example.com", refresh_token="rt-browser-signin")
    fake.sign_in_as("browser-signin@example.com")  # who the consent page signs in
    dash.open().sign_in()
    dash.page.wait_for_selector("#google-signin")
    with dash.page.context.expect_page() as popup_info:
        dash.page.click("#google-signin")
    popup = popup_info.value  # the consent page redirects to the gateway's /auth/callback
    popup.wait_for_selector("text=browser-signin@example.com")
    assert popup.url.startswith(f"{gateway.url}/auth/callback?")
    dash.page.wait_for_selector("tr[data-email='browser-signin@example.com']", timeout=10_000)


def test_settings_page_shows_the_api_validation_message(dash: Dashboard, gateway: Gateway) -> None:
    before = (gateway.data_dir / "config.toml").read_text()
    dash.open().sign_in()
    dash.go("Settings")
    field = dash.page.wait_for_selector("input[name='proxy.max_attempts']")
    field.fill("0")
    field.dispatch_event("change")
    dash.page.click("#settings-save")
    refused = "proxy.max_attempts: must be at least 1"
    dash.page.wait_for_selector(f"#settings-error:has-text('{refused}')")
    assert (gateway.data_dir / "config.toml").read_text() == before
    field.fill("4")
    field.dispatch_event("change")
    dash.page.click("#settings-save")
    dash.page.wait_for_selector("#settings-save:disabled")
    assert "max_attempts = 4" in (gateway.data_dir / "config.toml").read_text()


@pytest.mark.parametrize("size", sorted(WIDTHS))
def test_screenshots_of_every_page(
    browser: Any, gateway: Gateway, shots: Path, size: str, client: openai.OpenAI, fake: FakeGoogle
) -> None:
    fake.script(text("for the screenshots"))
    client.chat.completions.create(
        model="gemini-3-flash", messages=[{"role": "user", "content": "hi"}]
    )
    width, height = WIDTHS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    dash = Dashboard(context.new_page(), gateway)
    dash.open()
    dash.page.screenshot(path=str(shots / f"signin-{size}.png"))
    dash.sign_in()
    dash.page.wait_for_selector("#accounts-table .bar")
    for name in ("Accounts", "API", "Monitor", "Stats", "Settings"):
        dash.go(name)
        dash.page.wait_for_timeout(600)
        dash.page.screenshot(path=str(shots / f"{name.lower()}-{size}.png"), full_page=True)
        width_used = dash.page.evaluate("document.documentElement.scrollWidth")
        assert width_used <= width + 1, f"{name} overflows {width}px: {width_used}px"
    dash.assert_stayed_local()
    context.close()
