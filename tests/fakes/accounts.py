"""Accounts, OAuth tokens and per-model quota counters held by the simulator.

Plain state with small methods; every call happens under the `FakeGoogle` lock, with `now` passed in
(the simulator's clock is injectable). Deliberately no persistence and no real crypto.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.fakes.ids import Ids

DEFAULT_RESET_WINDOW = 5 * 3600.0


@dataclass
class Quota:
    """Remaining share of one model for one account. With `limit`, each request uses one unit."""

    fraction: float = 1.0
    limit: int | None = None
    used: int = 0
    reset_at: float = 0.0
    window: float = DEFAULT_RESET_WINDOW

    def roll(self, now: float) -> None:
        """Refill once the reset time has passed."""
        if now < self.reset_at:
            return
        self.used, self.fraction = 0, 1.0
        while self.reset_at <= now:
            self.reset_at += self.window

    def remaining_fraction(self) -> float:
        if self.limit is not None:
            return max(0, self.limit - self.used) / self.limit if self.limit else 0.0
        return self.fraction

    def remaining_amount(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    def exhausted(self) -> bool:
        return self.remaining_fraction() <= 0

    def consume(self) -> None:
        self.used += 1


@dataclass
class Account:
    """One Google account. Constructor fields are what `FakeGoogle.add_account` accepts."""

    email: str
    refresh_token: str = ""
    project: str = ""
    tier: str = "free-tier"
    onboarded: bool = True
    onboard_polls: int = 0  # how many `done:false` answers onboarding gives before `done:true`
    validation_required: bool = False
    project_form: str = "string"  # "string" or "object" ({id, name}) in loadCodeAssist
    paid_tier: str | None = None  # e.g. "g1-pro-tier"
    credits: int | None = None  # Google One AI credits shown in paidTier.availableCredits
    quota: dict[str, float] = field(default_factory=dict)  # model -> initial remainingFraction
    limits: dict[str, int] = field(default_factory=dict)  # model -> requests allowed per window
    name: str = ""
    disabled_service: bool = False  # every v1internal call answers 403 SERVICE_DISABLED
    quotas: dict[str, Quota] = field(default_factory=dict, repr=False)
    operation: str | None = field(default=None, repr=False)

    def quota_for(self, model: str, now: float) -> Quota:
        quota = self.quotas.get(model)
        if quota is None:
            quota = Quota(
                self.quota.get(model, 1.0),
                self.limits.get(model),
                reset_at=now + DEFAULT_RESET_WINDOW,
            )
            self.quotas[model] = quota
        quota.roll(now)
        return quota

    def userinfo(self, user_id: str) -> dict[str, object]:
        display = self.name or self.email.split("@")[0].replace(".", " ").title()
        given, _, family = display.partition(" ")
        return {
            "id": user_id,
            "email": self.email,
            "verified_email": True,
            "name": display,
            "given_name": given,
            "family_name": family,
            "picture": f"https://lh3.googleusercontent.com/a/fake-{user_id}=s96-c",
        }


@dataclass
class AccessToken:
    email: str
    expires_at: float


@dataclass(frozen=True)
class CodeGrant:
    """What an authorization code was issued for: redeemable once, with the PKCE verifier."""

    email: str
    redirect_uri: str = ""
    challenge: str = ""
    challenge_method: str = ""


class AccountBook:
    """Accounts by email, refresh tokens, issued access tokens and one-shot authorization codes."""

    def __init__(self, ids: Ids) -> None:
        self._ids = ids
        self.accounts: dict[str, Account] = {}
        self._refresh: dict[str, str] = {}
        self._access: dict[str, AccessToken] = {}
        self._codes: dict[str, CodeGrant] = {}

    def add(self, account: Account) -> Account:
        number = len(self.accounts) + 1
        account.refresh_token = account.refresh_token or f"fake-refresh-{number}"
        account.project = account.project or f"fake-project-{number}"
        self.accounts[account.email] = account
        self._refresh[account.refresh_token] = account.email
        return account

    def get(self, email: str) -> Account:
        return self.accounts[email]

    def by_refresh_token(self, token: str) -> Account | None:
        email = self._refresh.get(token)
        return self.accounts.get(email) if email else None

    def issue(self, email: str, expires_at: float) -> str:
        token = self._ids.token("ya29.fake-")
        self._access[token] = AccessToken(email, expires_at)
        return token

    def resolve(self, token: str, now: float) -> Account | None:
        entry = self._access.get(token)
        if entry is None or entry.expires_at <= now:
            return None
        return self.accounts.get(entry.email)

    def expire(self, email: str) -> None:
        for entry in self._access.values():
            if entry.email == email:
                entry.expires_at = 0.0

    def revoke(self, refresh_token: str) -> None:
        email = self._refresh.pop(refresh_token, None)
        if email is not None:
            self.expire(email)

    def known(self, token: str) -> bool:
        return token in self._access

    def ensure_refresh_token(self, account: Account) -> str:
        """The account's refresh token, minting a new one if it was revoked (a fresh login)."""
        if self._refresh.get(account.refresh_token) != account.email:
            account.refresh_token = self._ids.token("1//fake-")
            self._refresh[account.refresh_token] = account.email
        return account.refresh_token

    def new_code(self, email: str, **grant: str) -> str:
        """A one-shot code; `grant` holds redirect_uri, challenge, challenge_method if any."""
        code = self._ids.token("4/0Afake-")
        self._codes[code] = CodeGrant(email, **grant)
        return code

    def redeem(self, code: str) -> CodeGrant | None:
        """The code's grant, once: a second redemption (a replay) finds nothing."""
        return self._codes.pop(code, None)

    def user_id(self, email: str) -> str:
        return str(100000000000000000000 + list(self.accounts).index(email) + 1)
