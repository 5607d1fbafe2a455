"""Upstream accounts on disk: one `accounts/<id>.json` per account, mode 0600, written atomically.

`Account` and its `Quota` are frozen msgspec Structs (change them with `msgspec.structs.replace`).
No cache, no network. Every write that depends on what is on disk runs under `accounts/.lock`,
an exclusive `flock` shared by the server and every `agm` command, so a refresh never resurrects
a removed account. A corrupt file is skipped with a warning and never stops the others loading.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import msgspec

from ..settings import write_atomic

log = logging.getLogger(__name__)

ACCOUNTS_DIR = "accounts"
LOCK_FILE = ".lock"
STALE_TMP_SECONDS = 60.0

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: atomic renames only, no inter-process lock
    fcntl = None  # type: ignore[assignment]


class ModelQuota(msgspec.Struct, kw_only=True, frozen=True):
    """One model of `fetchAvailableModels`; `remaining_fraction` is 0.0 when upstream omits it."""

    remaining_fraction: float = 0.0
    reset_time: str = ""
    display_name: str = ""
    max_tokens: int = 0
    max_output_tokens: int = 0
    supports_images: bool = False
    supports_thinking: bool = False
    thinking_budget: int = 0
    recommended: bool = False

    @property
    def percentage(self) -> int:
        """Remaining quota in whole percent, rounded down like the reference app."""
        return max(0, min(100, math.floor(self.remaining_fraction * 100)))


class Quota(msgspec.Struct, kw_only=True, frozen=True):
    """A quota snapshot; `forwarding` maps deprecated model ids to their replacements."""

    models: dict[str, ModelQuota] = msgspec.field(default_factory=dict)
    forwarding: dict[str, str] = msgspec.field(default_factory=dict)
    web_search_models: list[str] = msgspec.field(default_factory=list)
    fetched_at: float = 0.0


class Account(msgspec.Struct, kw_only=True, frozen=True):
    """One upstream Google account: tokens, project, tier, quota snapshot and flags."""

    id: str
    email: str
    refresh_token: str
    access_token: str = ""
    expires_at: float = 0.0  # unix seconds
    project_id: str = ""
    tier: str = ""
    quota: Quota = msgspec.field(default_factory=Quota)
    disabled: bool = False
    disabled_reason: str = ""
    disabled_at: float = 0.0
    # 403 VALIDATION_REQUIRED: kept out of the pool until `agm accounts enable` clears it.
    needs_verification: bool = False
    verification_url: str = ""
    created_at: float = 0.0
    last_used: float = 0.0

    @property
    def is_usable(self) -> bool:
        return is_usable(self)


def is_usable(account: Account) -> bool:
    """Not disabled, not waiting for verification, and holding a refresh token."""
    return not account.disabled and not account.needs_verification and bool(account.refresh_token)


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Account).decode


class AccountStore:
    """Reads and writes the account files in `<data_dir>/accounts`."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = Path(data_dir) / ACCOUNTS_DIR

    def path_of(self, account_id: str) -> Path:
        if not account_id or "/" in account_id or account_id.startswith("."):
            raise ValueError(f"invalid account id: {account_id!r}")
        return self.dir / f"{account_id}.json"

    def load_all(self) -> list[Account]:
        """Every readable account, oldest first; unreadable files are skipped with a warning."""
        if not self.dir.is_dir():
            return []
        accounts = []
        for path in sorted(self.dir.glob("*.json")):
            try:
                accounts.append(_decode(path.read_bytes()))
            except (OSError, msgspec.DecodeError) as exc:
                log.warning("skipping unreadable account file %s: %s", path.name, exc)
        return sorted(accounts, key=lambda a: (a.created_at, a.email))

    def get(self, key: str) -> Account | None:
        """The account whose id or email (case-insensitive) is `key`."""
        if key and "/" not in key and not key.startswith("."):
            path = self.dir / f"{key}.json"
            if path.is_file():
                try:
                    return _decode(path.read_bytes())
                except (OSError, msgspec.DecodeError) as exc:
                    log.warning("skipping unreadable account file %s: %s", path.name, exc)
        return self.by_email(key)

    def by_email(self, email: str) -> Account | None:
        wanted = email.strip().lower()
        return next((a for a in self.load_all() if a.email.lower() == wanted), None)

    def _ensure_dir(self) -> None:
        if not self.dir.is_dir():
            self.dir.mkdir(parents=True, mode=0o700, exist_ok=True)
            self.dir.chmod(0o700)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's exclusive lock (blocking: call it off the event loop). Each holder
        opens its own file description, so threads of one process exclude each other too."""
        self._ensure_dir()
        with open(self.dir / LOCK_FILE, "a+b") as handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield  # closing the file releases the lock

    def save(self, account: Account) -> None:
        """Write atomically (temp file + fsync + rename), file 0600 in a 0700 directory."""
        self._ensure_dir()
        write_atomic(self.path_of(account.id), _encode(account))

    def update(self, key: str, change: Callable[[Account], Account]) -> Account | None:
        """Re-read the account under the lock and save `change(stored)`; None (and nothing
        written) when it no longer exists."""
        with self.locked():
            stored = self.get(key)
            if stored is None:
                return None
            updated = change(stored)
            if updated != stored:
                self.save(updated)
            return updated

    def upsert(
        self, email: str, build: Callable[[Account | None], Account]
    ) -> tuple[Account, bool]:
        """Save `build(existing account with this email or None)`; True when it is new.

        Under the lock, so parallel enrolments of one Google account leave one file."""
        with self.locked():
            existing = self.by_email(email)
            account = build(existing)
            self.save(account)
            return account, existing is None

    def remove(self, key: str) -> Account | None:
        """Delete the account with this id or email; the removed account, or None."""
        with self.locked():
            account = self.get(key)
            if account is not None:
                self.path_of(account.id).unlink(missing_ok=True)
            return account

    def sweep(
        self, now: Callable[[], float] = time.time, older_than: float = STALE_TMP_SECONDS
    ) -> int:
        """Delete temp files left by a writer that died (older than a minute, or `older_than`
        seconds: 0 when the caller knows no writer runs); how many."""
        if not self.dir.is_dir():
            return 0
        removed = 0
        with self.locked():
            for tmp in self.dir.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    if now() - tmp.stat().st_mtime >= older_than:
                        tmp.unlink()
                        removed += 1
        return removed
