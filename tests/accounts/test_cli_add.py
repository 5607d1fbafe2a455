"""`agm accounts add` end to end against the threaded Google simulator."""

from __future__ import annotations

import json
from pathlib import Path

import tomli_w
from click.testing import CliRunner, Result

from antigravity_gateway import cli, settings
from tests.accounts.helpers import settings_for
from tests.fakes.cloudcode import FakeGoogle

EMAIL = "cli@example.com"


def agm(data_dir: Path, *args: str, stdin: str | None = None,
        env: dict[str, str] | None = None) -> Result:
    runner = CliRunner(env={"COLUMNS": "200", **(env or {})})
    return runner.invoke(cli.main, ["--data-dir", str(data_dir), *args], input=stdin,
                         catch_exceptions=False)


def write_config(fake: FakeGoogle, data_dir: Path) -> None:
    data = settings.to_builtins(settings_for(fake))
    data["proxy"]["api_key"] = "sk-test-0123456789"
    data_dir.mkdir()
    (data_dir / "config.toml").write_text(tomli_w.dumps(data))


def test_accounts_add_list_and_errors(fake_google_thread: FakeGoogle, tmp_path: Path) -> None:
    fake = fake_google_thread
    fake.add_account(EMAIL, refresh_token="rt-cli", project="proj-cli",
                     quota={"gemini-3-flash": 0.5})
    data_dir = tmp_path / "data"
    write_config(fake, data_dir)

    result = agm(data_dir, "accounts", "add", "--refresh-token", "-", stdin="rt-cli\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        f"added {EMAIL} (tier: Gemini Code Assist for individuals, project: proj-cli)")
    assert "rt-cli" not in result.output

    listed = json.loads(agm(data_dir, "accounts", "list", "--json").stdout)
    assert [a["email"] for a in listed] == [EMAIL] and listed[0]["status"] == "active"
    assert listed[0]["quota"]["models"]["gemini-3-flash"]["percentage"] == 50
    table = agm(data_dir, "accounts", "list").stdout
    assert "gemini-3-flash: 50%" in table and "ya29." not in table

    fake.revoke("rt-cli")
    rejected = agm(data_dir, "accounts", "add", "--refresh-token", "rt-cli")
    assert rejected.exit_code == 1 and rejected.stderr.count("\n") == 1
    assert rejected.stderr.startswith("error: Google rejected the refresh token (invalid_grant")

    fake.add_account("v@example.com", refresh_token="rt-v", validation_required=True)
    blocked = agm(data_dir, "accounts", "add", "--refresh-token", "rt-v")
    assert blocked.exit_code == 1 and blocked.stderr.startswith("error: ")
    assert "https://" in blocked.stderr and blocked.stderr.count("\n") == 1
