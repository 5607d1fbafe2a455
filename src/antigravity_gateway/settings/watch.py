"""Live settings: notice `config.toml` changes while the gateway runs and hand them over.

`watch` polls the file's (inode, size, mtime) every `POLL_SECONDS` from a thread; on a
change it loads and validates the file (plus the `AGM_*` overrides) in a thread and passes the
new Settings to `apply`. An invalid file is logged once (until it changes again) and nothing is
applied, so the last good settings stay in force. It knows nothing of what the settings drive.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..file_poll import Poll
from . import MAP_PREFIXES, RESTART_KEYS, config_path, load_settings, to_builtins, with_value
from .schema import Settings, SettingsError

log = logging.getLogger("antigravity_gateway.settings")

POLL_SECONDS = 1.0
Fingerprint = tuple[int, int, int] | None


def fingerprint(path: Path) -> Fingerprint:
    """(inode, size, mtime_ns) of `path`, None when it does not exist."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def reload(data_dir: Path, current: Settings, env: Mapping[str, str]) -> Settings:
    """The file's settings (validated, env applied); a key removed from the file is kept."""
    loaded = load_settings(data_dir, env, first_run=False)
    if not loaded.proxy.api_key and current.proxy.api_key:
        loaded = with_value(loaded, "proxy.api_key", current.proxy.api_key)
    return loaded


async def watch(
    data_dir: Path,
    current: Callable[[], Settings],
    apply: Callable[[Settings], None],
    *,
    env: Mapping[str, str] = os.environ,
    interval: float = POLL_SECONDS,
) -> None:
    """Run until cancelled: every change of `config.toml` that validates goes to `apply`."""
    path = config_path(data_dir)
    seen = await asyncio.to_thread(fingerprint, path)
    with Poll(lambda: fingerprint(path), interval, seen) as poll:
        while True:
            try:
                if await poll.changed() is None:  # removed: the settings in force stay
                    continue
                new = await asyncio.to_thread(reload, data_dir, current(), env)
            except (SettingsError, OSError) as exc:
                log.error("config.toml not applied, the previous settings stay in force: %s",
                          exc)
                continue
            if new != current():
                apply(new)


def changed_keys(old: Settings, new: Settings) -> list[str]:
    """The dotted keys whose value differs (a whole section only when it is a list or map)."""
    return _diff(to_builtins(old), to_builtins(new), "")


def _diff(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str) -> list[str]:
    keys: list[str] = []
    for name, value in new.items():
        key = prefix + name
        if isinstance(value, dict) and f"{key}." not in MAP_PREFIXES:
            keys += _diff(old.get(name) or {}, value, key + ".")
        elif value != old.get(name):
            keys.append(key)
    return keys


def log_changes(old: Settings, new: Settings) -> None:
    """One line naming what changed; a warning for what only a restart applies."""
    keys = changed_keys(old, new)
    live = [k for k in keys if k not in RESTART_KEYS]
    if live:
        log.info("settings applied: %s", ", ".join(live))
    for key in (k for k in keys if k in RESTART_KEYS):
        log.warning("%s changed: restart agm serve to listen on %s:%d",
                    key, new.bind_host, new.proxy.port)
