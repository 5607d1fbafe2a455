"""Helpers for tests against the Google simulator: settings aimed at it, a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from antigravity_gateway.account_service import AccountService
from antigravity_gateway.accounts.store import AccountStore
from antigravity_gateway.providers import wire
from antigravity_gateway.providers.cloudcode_setup import Polling
from antigravity_gateway.settings import Settings, UpstreamSettings
from tests.fakes.cloudcode import FakeGoogle


def settings_for(fake: FakeGoogle, base_urls: list[str] | None = None) -> Settings:
    """Settings whose upstream is the simulator (its OAuth client, its three hosts)."""
    return Settings(upstream=UpstreamSettings(
        cloudcode_base_urls=base_urls or fake.cloudcode_base_urls,
        oauth_auth_url=fake.auth_url,
        oauth_token_url=fake.token_url,
        userinfo_url=fake.userinfo_url,
        oauth_client_id=fake.options.client_id,
        oauth_client_secret=fake.options.client_secret or "any",
    ))


@dataclass
class Clock:
    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


async def no_sleep(_: float) -> None:
    return None


@dataclass
class Harness:
    fake: FakeGoogle
    session: aiohttp.ClientSession
    upstream: wire.Client
    data_dir: Path
    clock: Clock = field(default_factory=Clock)
    attempts: int = 10

    @property
    def store(self) -> AccountStore:
        return AccountStore(self.data_dir)

    def service(self, settings: Settings | None = None) -> AccountService:
        return AccountService(self.session, settings or settings_for(self.fake), self.store,
                              clock=self.clock, upstream_client=self.upstream,
                              polling=Polling(interval=0.0, attempts=self.attempts, sleep=no_sleep))
