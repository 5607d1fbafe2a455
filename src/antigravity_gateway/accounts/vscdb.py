"""The refresh token held by the Antigravity IDE's `state.vscdb` (SQLite, opened read-only).

Layout as Antigravity Tools reads it (its `modules/migration.rs` and `utils/protobuf.rs`): an
`ItemTable` value (`UNIFIED_KEY`, or `LEGACY_KEY` in older IDEs) is base64 of protobuf that
leads to an OAuthTokenInfo {1: access token, 3: refresh token, 4: expiry}. Only the protobuf
wire format is decoded here.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from pathlib import Path

UNIFIED_KEY = "antigravityUnifiedStateSync.oauthToken"
# older IDEs: base64 of a message whose field 6 is the OAuthTokenInfo
LEGACY_KEY = "jetskiStateSync.agentManagerInitState"
AUTH_STATUS_KEY = "antigravityAuthStatus"
SENTINEL = "oauthTokenInfoSentinelKey"
SQLITE_MAGIC = b"SQLite format 3\x00"


class VscdbError(ValueError):
    """The database holds no readable token; the message says why, in one line."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise VscdbError("truncated protobuf data")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return value, pos
        shift += 7


def fields(data: bytes) -> dict[int, bytes | int]:
    """The first value of each field of one message (length-delimited ones as bytes)."""
    found: dict[int, bytes | int] = {}
    pos = 0
    while pos < len(data):
        tag, pos = read_varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = read_varint(data, pos)
            found.setdefault(number, value)
        elif wire == 2:
            length, pos = read_varint(data, pos)
            if pos + length > len(data):
                raise VscdbError("truncated protobuf data")
            found.setdefault(number, data[pos:pos + length])
            pos += length
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise VscdbError(f"unknown protobuf wire type {wire}")
    return found


def _sub(message: bytes, number: int, what: str) -> bytes:
    value = fields(message).get(number)
    if not isinstance(value, bytes):
        raise VscdbError(f"{what} not found")
    return value


def _b64(data: bytes | str, what: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise VscdbError(f"{what} is not base64") from None


def _maybe_b64(payload: bytes) -> bytes:
    try:
        decoded = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return payload
    return decoded or payload


def token_info_from_unified(value: str) -> bytes:
    """The OAuthTokenInfo message inside the unified-state value.

    That value is base64 of a Topic message: field 1 a data entry {1: key SENTINEL, 2: Row
    {1: base64 of OAuthTokenInfo}}; early tools nested the payload directly, maybe base64 again.
    """
    entry = _sub(_b64(value, "the oauthToken value"), 1, "the topic's data entry")
    key = _sub(entry, 1, "the data entry's key").decode(errors="replace")
    if key != SENTINEL:
        raise VscdbError(f"unexpected data entry {key!r} (wanted {SENTINEL})")
    payload = _sub(entry, 2, "the data entry's row")
    row_value = fields(payload).get(1)
    if isinstance(row_value, bytes):
        try:
            return _b64(row_value.decode("ascii"), "the row")
        except (UnicodeDecodeError, VscdbError):
            pass
    return _maybe_b64(payload)  # the early tools' nesting


def refresh_token_of(token_info: bytes) -> str:
    token = fields(token_info).get(3)
    if not isinstance(token, bytes) or not token:
        raise VscdbError("no refresh token in the OAuth token info (field 3)")
    return token.decode("utf-8", errors="strict")


def _item(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM ItemTable WHERE key = ?", (key,)).fetchone()
    if row is None or row[0] is None:
        return None
    value = row[0]
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def read_state(path: Path) -> tuple[str, str]:
    """(refresh token, email or "") from a state.vscdb; VscdbError when there is none."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise VscdbError(f"cannot open the database: {exc}") from None
    try:
        unified, legacy = _item(db, UNIFIED_KEY), _item(db, LEGACY_KEY)
        status = _item(db, AUTH_STATUS_KEY)
    except sqlite3.Error as exc:
        raise VscdbError(f"not an IDE state database: {exc}") from None
    finally:
        db.close()
    if unified:
        info = token_info_from_unified(unified)
    elif legacy:
        info = _sub(_b64(legacy, f"the {LEGACY_KEY} value"), 6, "the OAuth token info")
    else:
        raise VscdbError(f"no {UNIFIED_KEY} in it (is the IDE signed in?)")
    try:
        return refresh_token_of(info), _email(status)
    except UnicodeDecodeError:
        raise VscdbError("the refresh token is not text") from None


def _email(status: str | None) -> str:
    try:
        parsed = json.loads(status) if status else {}
    except ValueError:
        return ""
    email = parsed.get("email") if isinstance(parsed, dict) else None
    return email if isinstance(email, str) else ""
