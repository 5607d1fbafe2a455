"""`agm accounts import | export | refresh` against the threaded simulator, with real files."""

from __future__ import annotations

import json
from pathlib import Path

from antigravity_gateway.accounts.store import AccountStore
from tests.accounts import import_fixtures as fx
from tests.accounts.test_cli_add import agm, write_config
from tests.fakes.cloudcode import FakeGoogle
from tests.fakes.errors import internal_error


def accounts_on_disk(data_dir: Path) -> dict[str, tuple[str, str]]:
    """email -> (id, refresh token): what "changes nothing" is about."""
    return {a.email: (a.id, a.refresh_token) for a in AccountStore(data_dir).load_all()}


def build_sources(fake: FakeGoogle, root: Path) -> list[Path]:
    """One of each format, each holding its own account(s)."""
    people = {f"{kind}@example.com": f"1//token-{kind}"
              for kind in ("tools1", "tools2", "file", "export", "list", "ide", "line")}
    for email, token in people.items():
        fake.add_account(email, refresh_token=token)
    tools = fx.tools_data_dir(root / "tools", {"tools1@example.com": "1//token-tools1",
                                               "tools2@example.com": "1//token-tools2"})
    single = root / "one-account.json"
    single.write_text(json.dumps(fx.tools_account("file@example.com", "1//token-file")))
    lines = root / "tokens.txt"
    lines.write_text("1//token-line\n")
    return [
        tools, single,
        fx.export_json(root / "export.json", {"export@example.com": "1//token-export"}),
        fx.export_json(root / "list.json", {"list@example.com": "1//token-list"}, bare=True),
        fx.ide_state(root / "state.vscdb", "1//token-ide", "ide@example.com"),
        lines,
    ]


def test_every_format_then_reimport_changes_nothing(fake_google_thread: FakeGoogle,
                                                    tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    write_config(fake_google_thread, data_dir)
    sources = build_sources(fake_google_thread, tmp_path)
    first = agm(data_dir, "accounts", "import", *map(str, sources))
    assert first.exit_code == 0, first.output
    assert sorted(first.stdout.splitlines()) == sorted(
        f"added {kind}@example.com"
        for kind in ("tools1", "tools2", "file", "export", "list", "ide", "line"))
    before = accounts_on_disk(data_dir)
    assert len(before) == 7 and before["ide@example.com"][1] == "1//token-ide"

    again = agm(data_dir, "accounts", "import", *map(str, sources))
    assert again.exit_code == 0, again.output
    assert all(line.startswith("updated ") for line in again.stdout.splitlines())
    assert accounts_on_disk(data_dir) == before


def test_mixed_file_with_one_bad_entry(fake_google_thread: FakeGoogle, tmp_path: Path) -> None:
    fake = fake_google_thread
    data_dir = tmp_path / "data"
    write_config(fake, data_dir)
    fake.add_account("good@example.com", refresh_token="1//token-good")
    mixed = fx.export_json(tmp_path / "mixed.json", {"good@example.com": "1//token-good",
                                                     "bad@example.com": "1//revoked-token"})
    result = agm(data_dir, "accounts", "import", str(mixed))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "added good@example.com",
        "failed bad@example.com: Google rejected the refresh token "
        "(invalid_grant: Token has been expired or revoked.)"]
    assert list(accounts_on_disk(data_dir)) == ["good@example.com"]


def test_unknown_files_and_vscdb_without_the_key(fake_google_thread: FakeGoogle,
                                                 tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    write_config(fake_google_thread, data_dir)
    corrupt = tmp_path / "corrupt.bin"
    corrupt.write_bytes(b"\x00\xff\x00garbage")
    keyless = fx.state_vscdb(tmp_path / "state.vscdb", {"antigravityOnboarding": "true"})
    result = agm(data_dir, "accounts", "import", str(corrupt), str(keyless),
                 str(tmp_path / "missing.json"))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"failed {corrupt}: {corrupt}: not a text, JSON or SQLite file",
        f"failed {tmp_path / 'missing.json'}: No such file or directory",
        f"failed {keyless}: no antigravityUnifiedStateSync.oauthToken in it "
        "(is the IDE signed in?)"]
    assert accounts_on_disk(data_dir) == {}
    assert agm(data_dir, "accounts", "import").exit_code == 1


def test_from_antigravity_default_locations(fake_google_thread: FakeGoogle,
                                            tmp_path: Path) -> None:
    fake = fake_google_thread
    data_dir, home = tmp_path / "data", tmp_path / "home"
    write_config(fake, data_dir)
    fake.add_account("tools@example.com", refresh_token="1//token-tools")
    fake.add_account("ide@example.com", refresh_token="1//token-ide")
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    nothing = agm(data_dir, "accounts", "import", "--from-antigravity", env=env)
    assert nothing.exit_code == 1 and "no Antigravity Tools or Antigravity IDE data found" in (
        nothing.stderr)
    fx.tools_data_dir(home / ".antigravity_tools", {"tools@example.com": "1//token-tools"})
    fx.ide_state(home / ".config/Antigravity/User/globalStorage/state.vscdb", "1//token-ide",
                 "ide@example.com")
    found = agm(data_dir, "accounts", "import", "--from-antigravity", env=env)
    assert found.exit_code == 0, found.output
    assert f"found Antigravity Tools data at {home / '.antigravity_tools'}" in found.stderr
    assert "found Antigravity IDE state at" in found.stderr
    assert sorted(found.stdout.splitlines()) == ["added ide@example.com",
                                                 "added tools@example.com"]


def test_export_and_refresh(fake_google_thread: FakeGoogle, tmp_path: Path) -> None:
    fake = fake_google_thread
    data_dir = tmp_path / "data"
    write_config(fake, data_dir)
    for n in (1, 2):
        fake.add_account(f"u{n}@example.com", refresh_token=f"1//token-u{n}",
                         quota={"gemini-3-flash": 0.5})
    assert agm(data_dir, "accounts", "import", str(fx.export_json(
        tmp_path / "in.json", {"u1@example.com": "1//token-u1",
                               "u2@example.com": "1//token-u2"}))).exit_code == 0
    exported = agm(data_dir, "accounts", "export", "u2@example.com")
    assert json.loads(exported.stdout) == {
        "accounts": [{"email": "u2@example.com", "refresh_token": "1//token-u2"}]}
    assert "warning" not in exported.stderr  # not a terminal
    assert len(json.loads(agm(data_dir, "accounts", "export").stdout)["accounts"]) == 2

    fake.set_quota("u1@example.com", "gemini-3-flash", fraction=0.2)
    tokens = len(fake.calls("token"))
    refreshed = agm(data_dir, "accounts", "refresh")
    assert refreshed.exit_code == 0, refreshed.output
    assert sorted(refreshed.stdout.splitlines())[0].startswith("refreshed u1@example.com (")
    assert "lowest 20% left" in refreshed.stdout
    assert len(fake.calls("token")) == tokens + 2
    stored = AccountStore(data_dir).get("u1@example.com")
    assert stored and stored.quota.models["gemini-3-flash"].percentage == 20

    for host in ("sandbox", "daily", "prod"):
        fake.fail_host(host, internal_error(), times=None)
    failed = agm(data_dir, "accounts", "refresh", "u2@example.com")
    assert failed.exit_code == 1 and failed.stdout.startswith("failed u2@example.com: ")
    assert agm(data_dir, "accounts", "refresh", "nobody@example.com").exit_code == 1
