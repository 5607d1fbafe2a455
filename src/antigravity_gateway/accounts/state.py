"""Pool state that survives a restart: the cooldown table in `<data_dir>/pool_state.json`.

Written atomically (temp file + rename, mode 0600) by the server, off the event loop; read at
start-up and by `agm accounts list`. An unreadable file is treated as empty (cooldowns are a
cache of what the upstream said, never worth failing for). Verification flags live in the
account files themselves (`Account.needs_verification`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec

from ..settings import write_atomic
from ..state.base import Cooldown

log = logging.getLogger(__name__)

STATE_FILE = "pool_state.json"


class PoolState(msgspec.Struct, kw_only=True):
    """The contents of `pool_state.json`: the cooldown table."""

    cooldowns: list[Cooldown] = msgspec.field(default_factory=list)


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(PoolState).decode


def state_path(data_dir: Path) -> Path:
    return Path(data_dir) / STATE_FILE


def load_cooldowns(data_dir: Path) -> list[Cooldown]:
    path = state_path(data_dir)
    try:
        return _decode(path.read_bytes()).cooldowns
    except FileNotFoundError:
        return []
    except (OSError, msgspec.DecodeError) as exc:
        log.warning("ignoring unreadable %s: %s", path.name, exc)
        return []


def save_cooldowns(data_dir: Path, cooldowns: list[Cooldown]) -> None:
    write_atomic(state_path(data_dir), _encode(PoolState(cooldowns=cooldowns)))
