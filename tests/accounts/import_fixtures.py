"""Real import source files, built the way their owners write them.

An Antigravity Tools data dir (docs/upstream.md §10.6: `accounts.json` index plus
`accounts/<uuid>.json`), an export JSON, a token-per-line file, and the Antigravity IDE's
`state.vscdb` (SQLite `ItemTable`, the token as base64 protobuf; the encoder below is written
from the wire format, independent of the code under test).
"""

from __future__ import annotations

import base64
import json
import sqlite3
import uuid
from pathlib import Path


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def field(number: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return varint(number << 3) + varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


def token_info(refresh_token: str, access_token: str = "ya29.ide", expiry: int = 1_760_000_000
               ) -> bytes:
    return (field(1, access_token) + field(2, "Bearer") + field(3, refresh_token)
            + field(4, field(1, expiry) + field(2, 0)) + field(6, 1))


def unified_value(refresh_token: str, *, early: bool = False) -> str:
    """Topic{1: DataEntry{1: sentinel, 2: Row{1: base64(OAuthTokenInfo)}}}, base64; `early`:
    the nesting older tools wrote (the payload directly in field 2)."""
    info = token_info(refresh_token)
    row = info if early else field(1, base64.b64encode(info).decode())
    entry = field(1, "oauthTokenInfoSentinelKey") + field(2, row)
    return base64.b64encode(field(1, entry)).decode()


def legacy_value(refresh_token: str) -> str:
    """`jetskiStateSync.agentManagerInitState`: field 6 is the OAuthTokenInfo."""
    return base64.b64encode(field(1, "other") + field(6, token_info(refresh_token))).decode()


def state_vscdb(path: Path, items: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
    db.executemany("INSERT INTO ItemTable VALUES (?, ?)", items.items())
    db.commit()
    db.close()
    return path


def ide_state(path: Path, refresh_token: str, email: str, **how: bool) -> Path:
    return state_vscdb(path, {
        "antigravityUnifiedStateSync.oauthToken": unified_value(refresh_token, **how),
        "antigravityAuthStatus": json.dumps({"email": email, "name": "IDE User",
                                             "apiKey": "ya29.ide"}),
        "antigravityOnboarding": "true",
    })


def tools_account(email: str, refresh_token: str) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()), "email": email, "name": None,
        "token": {"access_token": "ya29.old", "refresh_token": refresh_token,
                  "expires_in": 3599, "expiry_timestamp": 1_760_000_000,
                  "token_type": "Bearer", "email": email, "project_id": "tools-project"},
        "quota": {"models": [], "last_updated": 0, "is_forbidden": False},
        "disabled": False, "created_at": 1_760_000_000, "last_used": 1_760_000_000,
    }


def tools_data_dir(root: Path, accounts: dict[str, str]) -> Path:
    """`accounts.json` (the index) and one `accounts/<id>.json` per email -> token."""
    (root / "accounts").mkdir(parents=True)
    index = []
    for email, token in accounts.items():
        account = tools_account(email, token)
        (root / "accounts" / f"{account['id']}.json").write_text(json.dumps(account, indent=2))
        index.append({"id": account["id"], "email": email, "name": None, "disabled": False,
                      "proxy_disabled": False, "created_at": 1, "last_used": 1})
    (root / "accounts.json").write_text(json.dumps(
        {"version": "2.0", "accounts": index, "current_account_id": None}))
    return root


def export_json(path: Path, accounts: dict[str, str], *, bare: bool = False) -> Path:
    items = [{"email": e, "refresh_token": t} for e, t in accounts.items()]
    path.write_text(json.dumps(items if bare else {"accounts": items}))
    return path
