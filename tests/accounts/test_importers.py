"""Import sources recognised from their content, and the IDE's state.vscdb decoding."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pytest

from antigravity_gateway.accounts import vscdb
from antigravity_gateway.accounts.importers import (
    Entry,
    UnknownFormat,
    antigravity_locations,
    read_json,
    read_path,
)
from tests.accounts import import_fixtures as fx


def test_tools_data_dir_its_index_and_one_account_file(tmp_path: Path) -> None:
    root = fx.tools_data_dir(tmp_path / "tools", {"a@x.com": "1//tok-a", "b@x.com": "1//tok-b"})
    entries = sorted(read_path(root), key=lambda e: e.label)
    assert entries == [Entry("a@x.com", "1//tok-a"), Entry("b@x.com", "1//tok-b")]
    assert sorted(read_path(root / "accounts.json"), key=lambda e: e.label) == entries
    one = next((root / "accounts").glob("*.json"))
    assert read_path(one) == [e for e in entries if e.refresh_token in one.read_text()]


def test_export_bare_list_and_token_lines(tmp_path: Path) -> None:
    accounts = {"a@x.com": "1//tok-a", "b@x.com": "1//tok-b"}
    expected = [Entry("a@x.com", "1//tok-a"), Entry("b@x.com", "1//tok-b")]
    assert read_path(fx.export_json(tmp_path / "e.json", accounts)) == expected
    assert read_path(fx.export_json(tmp_path / "l.json", accounts, bare=True)) == expected
    lines = tmp_path / "tokens.txt"
    lines.write_text("# my tokens\n1//tok-a\n\n  1//tok-b  \nnot a token\n")
    assert read_path(lines) == [Entry(f"{lines}:2", "1//tok-a"), Entry(f"{lines}:4", "1//tok-b"),
                                Entry(f"{lines}:5", problem="not a refresh token")]


def test_bad_items_are_entries_with_a_problem(tmp_path: Path) -> None:
    data = {"accounts": [{"email": "a@x.com", "refresh_token": "1//tok-a"},
                         {"email": "b@x.com"}, 7, {"refreshToken": "has space in it"}]}
    assert read_json(data, "f") == [
        Entry("a@x.com", "1//tok-a"), Entry("b@x.com", problem="no refresh_token"),
        Entry("f[2]", problem="neither an account object nor a token"),
        Entry("f[3]", problem="the refresh_token is malformed")]


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text, JSON or SQLite file"),
    (b'{"accounts": [', "not valid JSON"),
    (b'{"version": 3}', "JSON but not an export"),
    (b"\n# nothing\n", "no refresh tokens"),
])
def test_unknown_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "file"
    path.write_bytes(content)
    with pytest.raises(UnknownFormat, match=message):
        read_path(path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UnknownFormat, match="no Antigravity Tools account files"):
        read_path(tmp_path / "empty")


@pytest.mark.parametrize("early", [False, True])
def test_state_vscdb_unified_token(tmp_path: Path, early: bool) -> None:
    path = fx.ide_state(tmp_path / "state.vscdb", "1//ide-token", "ide@x.com", early=early)
    assert read_path(path) == [Entry("ide@x.com", "1//ide-token")]
    assert vscdb.read_state(path) == ("1//ide-token", "ide@x.com")


def test_state_vscdb_legacy_key_and_missing_key(tmp_path: Path) -> None:
    legacy = fx.state_vscdb(tmp_path / "old.vscdb", {
        "jetskiStateSync.agentManagerInitState": fx.legacy_value("1//old-token")})
    assert read_path(legacy) == [Entry(str(legacy), "1//old-token")]
    empty = fx.state_vscdb(tmp_path / "empty.vscdb", {"antigravityOnboarding": "true"})
    (entry,) = read_path(empty)
    assert not entry.refresh_token
    assert entry.problem == ("no antigravityUnifiedStateSync.oauthToken in it "
                             "(is the IDE signed in?)")


def test_state_vscdb_corrupt_value_and_read_only(tmp_path: Path) -> None:
    path = fx.state_vscdb(tmp_path / "bad.vscdb", {
        "antigravityUnifiedStateSync.oauthToken": "%%% not base64"})
    before = path.read_bytes()
    (entry,) = read_path(path)
    assert entry.problem == "the oauthToken value is not base64"
    assert path.read_bytes() == before and not list(tmp_path.glob("*-journal"))


def test_default_locations_per_system() -> None:
    home = PurePosixPath("/home/u")
    linux = antigravity_locations(home, {}, "Linux")
    assert [str(p) for p in linux] == [
        "/home/u/.antigravity_tools",
        "/home/u/.config/Antigravity/User/globalStorage/state.vscdb",
        "/home/u/.config/Antigravity IDE/User/globalStorage/state.vscdb"]
    xdg = antigravity_locations(home, {"XDG_CONFIG_HOME": "/cfg"}, "Linux")
    assert str(xdg[1]) == "/cfg/Antigravity/User/globalStorage/state.vscdb"
    mac = antigravity_locations(home, {}, "Darwin")
    assert str(mac[1]) == (
        "/home/u/Library/Application Support/Antigravity/User/globalStorage/state.vscdb")
    windows = antigravity_locations(home, {"APPDATA": "/appdata"}, "Windows")
    assert str(windows[1]) == "/appdata/Antigravity/User/globalStorage/state.vscdb"


def test_export_document_round_trips(tmp_path: Path) -> None:
    from antigravity_gateway.accounts.importers import export_document
    from antigravity_gateway.accounts.store import Account

    doc = export_document([Account(id="1", email="a@x.com", refresh_token="1//tok-a")])
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc))
    assert read_path(path) == [Entry("a@x.com", "1//tok-a")]
