"""Import sources, recognised by their content (the README's "Import and export").

`read_path` turns a path into `Entry`s: an Antigravity Tools data dir or one of its account
files, an export `{"accounts":[{"email","refresh_token"}]}` or a bare list of those, the IDE's
`state.vscdb`, or one refresh token per line. A bad item becomes an `Entry` with a `problem`;
anything else raises `UnknownFormat`. No network, no writing: enrolment is the caller's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from . import vscdb
from .store import Account

TOKEN_SHAPE = re.compile(r"[\x21-\x7e]{8,4096}")
TOOLS_DIR = ".antigravity_tools"
IDE_NAMES = ("Antigravity", "Antigravity IDE")
IDE_STATE = ("User", "globalStorage", "state.vscdb")


class UnknownFormat(ValueError):
    """Not an import source we know; the message says what was found instead."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One account to import: its refresh token, or why it cannot be imported."""

    label: str  # how the output names it: an email, or where in which file
    refresh_token: str = ""
    problem: str = ""


def read_path(path: Path) -> list[Entry]:
    """Every entry `path` holds; UnknownFormat or OSError when it cannot be read at all."""
    if path.is_dir():
        return _read_dir(path)
    data = path.read_bytes()
    if data.startswith(vscdb.SQLITE_MAGIC):
        return [_read_vscdb(path)]
    text = _text(data, path)
    if text.lstrip().startswith(("{", "[")):
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise UnknownFormat(f"{path}: not valid JSON ({exc})") from None
        return read_json(parsed, str(path), index_dir=path.parent)
    return _read_lines(text, str(path))


def _text(data: bytes, path: Path) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnknownFormat(f"{path}: not a text, JSON or SQLite file") from None
    if "\x00" in text:
        raise UnknownFormat(f"{path}: not a text, JSON or SQLite file")
    return text


def _read_dir(path: Path) -> list[Entry]:
    accounts = path / "accounts" if (path / "accounts").is_dir() else path
    files = sorted(accounts.glob("*.json"))
    if not files:
        raise UnknownFormat(f"{path}: no Antigravity Tools account files (accounts/*.json)")
    entries: list[Entry] = []
    for file in files:
        try:
            entries += read_json(json.loads(file.read_text("utf-8-sig")), str(file))
        except (ValueError, OSError) as exc:
            entries.append(Entry(str(file), problem=f"unreadable account file ({exc})"))
    return entries


def _read_vscdb(path: Path) -> Entry:
    try:
        token, email = vscdb.read_state(path)
    except vscdb.VscdbError as exc:
        return Entry(str(path), problem=str(exc))
    return Entry(email or str(path), token)


def _read_lines(text: str, origin: str) -> list[Entry]:
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        token = line.strip()
        if not token or token.startswith("#"):
            continue
        label = f"{origin}:{number}"
        if TOKEN_SHAPE.fullmatch(token):
            entries.append(Entry(label, token))
        else:
            entries.append(Entry(label, problem="not a refresh token"))
    if not entries:
        raise UnknownFormat(f"{origin}: no refresh tokens in it")
    return entries


def read_json(data: Any, origin: str, *, index_dir: Path | None = None) -> list[Entry]:
    """The entries of a parsed JSON document (the admin API's import body too)."""
    if isinstance(data, dict) and isinstance(data.get("accounts"), list):
        items = data["accounts"]
        if index_dir is not None and _is_tools_index(items):
            return _read_dir(index_dir)
        return [_item(item, f"{origin}[{i}]") for i, item in enumerate(items)]
    if isinstance(data, list):
        return [_item(item, f"{origin}[{i}]") for i, item in enumerate(data)]
    if isinstance(data, dict) and ("token" in data or _token_of(data)):
        return [_item(data, origin)]
    raise UnknownFormat(f"{origin}: JSON but not an export, account list or account file")


def _is_tools_index(items: list[Any]) -> bool:
    """Antigravity Tools' `accounts.json`: ids and emails only, the tokens are in `accounts/`."""
    return bool(items) and all(isinstance(i, dict) and "id" in i and not _token_of(i)
                               for i in items)


def _item(item: Any, where: str) -> Entry:
    if isinstance(item, str):
        token = item.strip()
        return Entry(where, token) if TOKEN_SHAPE.fullmatch(token) else Entry(
            where, problem="not a refresh token")
    if not isinstance(item, dict):
        return Entry(where, problem="neither an account object nor a token")
    email = item.get("email")
    label = email if isinstance(email, str) and email else where
    token = _token_of(item) or _token_of(item.get("token"))  # Tools: `token.refresh_token`
    if not token:
        return Entry(label, problem="no refresh_token")
    if not TOKEN_SHAPE.fullmatch(token):
        return Entry(label, problem="the refresh_token is malformed")
    return Entry(label, token)


def _token_of(item: Any) -> str:
    if not isinstance(item, dict):
        return ""
    token = item.get("refresh_token") or item.get("refreshToken")
    return token.strip() if isinstance(token, str) else ""


def antigravity_locations(home: PurePath, env: Mapping[str, str], system: str) -> list[Path]:
    """Where Antigravity Tools and the Antigravity IDE keep accounts on this kind of system
    (`system` as `platform.system()` says it), whether they exist or not."""
    if system == "Darwin":
        config = Path(home, "Library", "Application Support")
    elif system == "Windows":
        config = Path(env.get("APPDATA") or Path(home, "AppData", "Roaming"))
    else:
        config = Path(env.get("XDG_CONFIG_HOME") or Path(home, ".config"))
    return [Path(home, TOOLS_DIR), *(Path(config, name, *IDE_STATE) for name in IDE_NAMES)]


def export_document(accounts: Iterable[Account]) -> dict[str, list[dict[str, str]]]:
    """The export shape, `{"accounts":[{"email","refresh_token"}]}`, which import reads back."""
    return {"accounts": [{"email": a.email, "refresh_token": a.refresh_token} for a in accounts]}
