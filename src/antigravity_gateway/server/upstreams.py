"""API-key upstreams (`[[upstreams]]`, and z.ai from `[zai]`) as lanes of the attempt loop.

Each upstream is a provider of its kind with a pool of its keys: they rotate round-robin and
cool exactly like accounts. `Upstreams` rebuilds the lanes when the settings change and keeps
the pools (their cooldowns) of the ones that did not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from ..accounts.pool import ANY_MODEL, Policy, Pool
from ..accounts.store import Account
from ..core.messages import ChatRequest
from ..errors import UpstreamError
from ..providers import wire
from ..providers.anthropic import AnthropicProvider
from ..providers.base import Provider, key_credentials
from ..providers.gemini_api import GeminiApiProvider
from ..providers.http import Transport
from ..providers.openai import OpenAIProvider
from ..routing.models import Route
from ..routing.retry import Decision, classify
from ..routing.zai import zai_model
from ..settings import Settings
from ..settings.schema import UpstreamEntry, ZaiSettings

log = logging.getLogger(__name__)

BAD_KEY_COOLDOWN = 3600.0  # a refused key: kept out for an hour (a config change clears it)
ZAI = "zai"
ZAI_ANTHROPIC_PATH = "/api/anthropic"  # z.ai's Anthropic-compatible endpoint
_KINDS: dict[str, Callable[[Transport, list[str]], Provider]] = {
    "anthropic": AnthropicProvider, "openai": OpenAIProvider, "gemini": GeminiApiProvider,
}
_BAD_KEY_WORDS = ("api_key_invalid", "invalid api key", "api key not valid", "invalid_api_key")


class KeyLane:
    """One upstream: its provider and its keys (a `Lane` of server/attempt.py)."""

    renews = False

    def __init__(self, entry: UpstreamEntry, provider: Provider,
                 clock: Callable[[], float]) -> None:
        self.entry = entry
        self.name = entry.name
        self.provider = provider
        self.who = f"upstream {entry.name}"
        self.no_credential = f"upstream {entry.name} has no usable API key"
        self.clock = clock
        self.pool = Pool(key_credentials(entry.name, entry.api_keys), clock=clock,
                         policy=Policy(mode="round_robin"))

    async def ready(self, credential: Account, *, force: bool = False) -> Account:
        return credential

    def decide(self, error: UpstreamError) -> Decision:
        """A bad key (401/403, or a body that says so) is kept out for BAD_KEY_COOLDOWN; the
        rest as for accounts (a 429 until its retry delay, a 5xx or garbage: the next key)."""
        lowered = error.body.lower()
        if error.upstream_status in (401, 403) or any(w in lowered for w in _BAD_KEY_WORDS):
            return Decision("unauthorized", retry=True, cooldown=BAD_KEY_COOLDOWN,
                            whole_account=True)
        return classify(error, now=self.clock())

    def apply(self, credential: Account, model: str, decision: Decision) -> None:
        if decision.cooldown:
            scope = ANY_MODEL if decision.whole_account else model
            self.pool.cool(credential.email, scope, decision.cooldown, decision.kind)


def zai_entry(zai: ZaiSettings) -> UpstreamEntry | None:
    """`[zai]` as an anthropic-kind upstream, when it is on and has a key."""
    if not zai.enabled or not zai.api_key or zai.dispatch_mode == "off":
        return None
    base = zai.base_url.rstrip("/")
    if not urlsplit(base).path.endswith(ZAI_ANTHROPIC_PATH):
        base += ZAI_ANTHROPIC_PATH
    return UpstreamEntry(name=ZAI, kind="anthropic", base_url=base, api_keys=[zai.api_key])


def entries(settings: Settings) -> list[UpstreamEntry]:
    """Every API-key upstream: `[[upstreams]]`, and `[zai]` unless an upstream is named zai."""
    found = list(settings.upstreams)
    zai = zai_entry(settings.zai)
    if zai is not None and all(e.name != ZAI for e in found):
        found.append(zai)
    return found


class Upstreams:
    """The lanes of every API-key upstream, kept in step with the settings."""

    def __init__(self, client: wire.Client, clock: Callable[[], float]) -> None:
        self._client = client
        self._clock = clock
        self._source: tuple[list[UpstreamEntry], ZaiSettings, str, int] | None = None
        self.lanes: dict[str, KeyLane] = {}
        self.zai: KeyLane | None = None
        self._turn = 0

    def sync(self, settings: Settings) -> None:
        source = (settings.upstreams, settings.zai, settings.upstream.proxy_url,
                  settings.proxy.request_timeout)
        if source == self._source:
            return
        self._source = source
        zai = settings.zai
        if zai.enabled and zai.dispatch_mode != "off" and not zai.api_key:
            log.warning("[zai] is enabled (dispatch_mode %s) but zai.api_key is empty: "
                        "requests are not dispatched to z.ai", zai.dispatch_mode)
        self.lanes = {e.name: self._lane(e, settings, self.lanes.get(e.name))
                      for e in entries(settings)}
        self.zai = self.lanes.get(ZAI) if settings.zai.dispatch_mode != "off" else None
        if self.zai is not None and not settings.zai.enabled:
            self.zai = None

    def _lane(self, entry: UpstreamEntry, settings: Settings, old: KeyLane | None) -> KeyLane:
        if old is not None and old.entry == entry:
            return old
        transport = Transport(self._client, entry.base_url, proxy=settings.upstream.proxy_url,
                              timeout=settings.proxy.request_timeout)
        return KeyLane(entry, _KINDS[entry.kind](transport, entry.models), self._clock)

    def globs(self) -> dict[str, list[str]]:
        """Upstream name -> the client model names (globs) it serves directly."""
        return {name: lane.entry.models for name, lane in self.lanes.items()}

    def model_names(self) -> set[str]:
        return {name for lane in self.lanes.values() for name in lane.provider.list_models()}

    def dispatch(self, settings: Settings, req: ChatRequest,
                 google: Callable[[], Route], google_accounts: int) -> list[Route]:
        """The routes to try in order for an Anthropic-protocol request: z.ai's (exclusive),
        Google's or z.ai's as one more member of the rotation (pooled), or Google's then
        z.ai's (fallback)."""
        if self.zai is None or "anthropic" not in req.passthrough:
            return [google()]
        mode = settings.zai.dispatch_mode
        zai = Route(req.model, zai_model(req.model, settings.zai.model_mapping), "zai",
                    provider=self.zai.name)
        if mode == "exclusive":
            return [zai]
        route = google()
        if route.provider:  # the mapping chose an upstream itself
            return [route]
        if mode == "fallback":
            return [route, zai]
        self._turn += 1
        return [zai] if self._turn % (google_accounts + 1) == 0 else [route]
