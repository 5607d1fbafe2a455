"""`agm` commands through click's CliRunner: output, exit codes and one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import Result

from antigravity_gateway.accounts.store import Account, AccountStore, ModelQuota, Quota
from tests.cli.conftest import Run


def one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.stderr


def seed(data_dir: Path) -> AccountStore:
    store = AccountStore(data_dir)
    quota = Quota(models={
        "gemini-3-flash": ModelQuota(remaining_fraction=0.87, reset_time="2026-01-08T17:00:00Z"),
        "claude-opus-4-6-thinking": ModelQuota(reset_time="2026-01-08T18:00:00Z"),
    })
    store.save(Account(id="id-a", email="a@example.com", refresh_token="1//secret-refresh",
                       access_token="ya29.secret-access", project_id="proj-a", tier="Google AI Pro",
                       quota=quota, created_at=1.0))
    store.save(Account(id="id-b", email="b@example.com", refresh_token="1//other", created_at=2.0,
                       disabled=True, disabled_reason="invalid_grant: Token has been revoked."))
    return store


# --- config ----------------------------------------------------------------------------------

def test_config_path_and_data_dir_precedence(run: Run, data_dir: Path, tmp_path: Path) -> None:
    assert run("config", "path").stdout.strip() == str(data_dir / "config.toml")
    other = tmp_path / "other"
    assert run("--data-dir", str(other), "config", "path").stdout.strip() == str(
        other / "config.toml")
    assert run("config", "path", "--data-dir", str(other)).stdout.strip() == str(
        other / "config.toml")
    assert run("config", "--data-dir", str(other), "path").stdout.strip() == str(
        other / "config.toml")


def test_config_show_masks_secrets(run: Run) -> None:
    key = run("key").stdout.strip()
    assert re.fullmatch(r"sk-[0-9a-f]{32}", key)
    shown = run("config", "show")
    assert shown.exit_code == 0
    assert "[proxy]" in shown.stdout and "port = 8045" in shown.stdout
    assert key not in shown.stdout and f"{key[:4]}…{key[-4:]}" in shown.stdout
    assert "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" not in shown.stdout
    assert key in run("config", "show", "--reveal").stdout
    data = json.loads(run("config", "show", "--json").stdout)
    assert data["proxy"]["port"] == 8045 and data["proxy"]["api_key"] != key
    assert json.loads(run("config", "show", "--json", "--reveal").stdout)["proxy"]["api_key"] == key


def test_config_show_applies_env(run: Run) -> None:
    data = json.loads(run("config", "show", "--json", env={"AGM_PORT": "9999"}).stdout)
    assert data["proxy"]["port"] == 9999


def test_config_get_and_set(run: Run, data_dir: Path) -> None:
    assert run("config", "get", "proxy.port").stdout == "8045\n"
    assert run("config", "get", "proxy.allow_lan_access").stdout == "false\n"
    result = run("config", "set", "proxy.port", "8046")
    assert result.exit_code == 0 and result.stdout == "proxy.port = 8046\n"
    assert run("config", "get", "proxy.port").stdout == "8046\n"
    assert "port = 8046" in (data_dir / "config.toml").read_text()
    run("config", "set", "upstream.cloudcode_base_urls", '["http://a:1", "http://b:2"]')
    urls = run("config", "get", "upstream.cloudcode_base_urls").stdout.strip()
    assert urls == '["http://a:1", "http://b:2"]'
    run("config", "set", "upstream.cloudcode_base_urls", urls)  # round-trips
    run("config", "set", "models.custom_mapping.gpt-4*", "gemini-3-flash")
    assert run("config", "get", "models.custom_mapping").stdout == '{"gpt-4*" = "gemini-3-flash"}\n'
    assert run("config", "get", "models.custom_mapping.gpt-4*").stdout == "gemini-3-flash\n"


def test_config_set_secret_is_masked_in_echo(run: Run) -> None:
    result = run("config", "set", "proxy.admin_password", "correct-horse-battery")
    assert result.exit_code == 0 and "correct-horse-battery" not in result.output
    assert run("config", "get", "proxy.admin_password").stdout == "corr…tery\n"
    assert run("config", "get", "proxy.admin_password", "--reveal").stdout == (
        "correct-horse-battery\n")


def test_config_set_notes_env_override(run: Run) -> None:
    result = run("config", "set", "proxy.port", "8050", env={"AGM_PORT": "9000"})
    assert result.exit_code == 0 and "AGM_PORT" in result.stderr


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("proxy.port", "70000", "error: proxy.port: must be between 1 and 65535"),
        ("proxy.auth_mode", "maybe", "error: proxy.auth_mode: must be one of"),
        ("proxy.api_key", "abc", "error: proxy.api_key: must start with"),
        ("proxy.foo", "1", "error: unknown setting: proxy.foo"),
        ("upstream.proxy_url", "nope", "error: upstream.proxy_url:"),
    ],
)
def test_config_set_refuses_bad_values(
    run: Run, data_dir: Path, key: str, value: str, needle: str
) -> None:
    run("key")
    before = (data_dir / "config.toml").read_bytes()
    result = run("config", "set", key, value)
    one_line_error(result, needle)
    assert (data_dir / "config.toml").read_bytes() == before


def test_config_get_unknown_key(run: Run) -> None:
    one_line_error(run("config", "get", "proxy.nope"), "unknown setting: proxy.nope")


def test_config_set_can_fix_an_invalid_file(run: Run, data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "config.toml").write_text('[proxy]\napi_key = "sk-0123456789"\nport = 0\n')
    one_line_error(run("config", "show"), "proxy.port: must be between 1 and 65535")
    assert run("config", "set", "proxy.port", "8047").exit_code == 0
    assert run("config", "get", "proxy.port").stdout == "8047\n"


def test_unknown_key_in_file(run: Run, data_dir: Path) -> None:
    data_dir.mkdir()
    (data_dir / "config.toml").write_text("[proxy]\nbogus = 1\n")
    one_line_error(run("config", "show"), "unknown setting: proxy.bogus")


def test_bad_env_is_one_line(run: Run) -> None:
    one_line_error(run("config", "show", env={"AGM_PORT": "abc"}), "AGM_PORT")


# --- key -------------------------------------------------------------------------------------

def test_key_and_regenerate(run: Run, data_dir: Path) -> None:
    first = run("key").stdout.strip()
    assert first == run("key").stdout.strip()
    result = run("key", "--regenerate")
    new = result.stdout.strip()
    assert result.exit_code == 0 and new != first and re.fullmatch(r"sk-[0-9a-f]{32}", new)
    assert run("key").stdout.strip() == new
    assert new in (data_dir / "config.toml").read_text()


def test_key_prefers_env(run: Run) -> None:
    assert run("key", env={"AGM_API_KEY": "sk-env-key-123"}).stdout.strip() == "sk-env-key-123"
    assert "AGM_API_KEY" in run("key", "--regenerate", env={"AGM_API_KEY": "sk-env-key-123"}).stderr


# --- accounts --------------------------------------------------------------------------------

def test_accounts_list_empty(run: Run) -> None:
    result = run("accounts", "list")
    assert result.exit_code == 0 and "no accounts" in result.stdout
    assert json.loads(run("accounts", "list", "--json").stdout) == []


def test_accounts_list_table(run: Run, data_dir: Path) -> None:
    seed(data_dir)
    result = run("accounts", "list")
    out = result.stdout
    assert result.exit_code == 0
    for needle in ("a@example.com", "b@example.com", "Google AI Pro", "proj-a", "active",
                   "disabled (invalid_grant: Token has been revoked.)", "gemini-3-flash: 87%",
                   "87% █████████░ resets ", "claude-opus-4-6-thinking: 0%"):
        assert needle in out, needle
    assert "secret" not in out
    assert "last used never" in out


def test_accounts_list_fits_80_columns(run: Run, data_dir: Path) -> None:
    store = seed(data_dir)
    account = store.get("a@example.com")
    assert account is not None
    store.save(msgspec.structs.replace(
        account, email="a.very.long.name.for.an.account@some-company.example.com",
        tier="Gemini Code Assist for individuals",
        project_id="cloudaicompanion-abcdefgh-123456", last_used=1767891600.0))
    result = run("accounts", "list", columns=80)
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and max(len(line) for line in lines) <= 80, result.stdout
    assert any(line.startswith("a.very.long.name.for.an.account@some-company.example.com  active")
               for line in lines)
    assert "last used 2026-01-08T17:00:00Z" in result.stdout
    assert any(line.startswith("    gemini-3-flash: 87% ") for line in lines)


def test_accounts_list_json_has_no_secrets(run: Run, data_dir: Path) -> None:
    seed(data_dir)
    result = run("accounts", "list", "--json")
    assert "secret" not in result.stdout and "refresh_token" not in result.stdout
    items: list[dict[str, Any]] = json.loads(result.stdout)
    assert [i["email"] for i in items] == ["a@example.com", "b@example.com"]
    assert items[0]["status"] == "active" and items[1]["status"] == "disabled"
    assert items[1]["disabled_reason"].startswith("invalid_grant")
    flash = items[0]["quota"]["models"]["gemini-3-flash"]
    assert flash["percentage"] == 87 and flash["reset_time"] == "2026-01-08T17:00:00Z"


def test_accounts_enable_disable_remove(run: Run, data_dir: Path) -> None:
    store = seed(data_dir)
    assert run("accounts", "disable", "a@example.com").stdout == "disabled a@example.com\n"
    account = store.get("a@example.com")
    assert account is not None and account.disabled and account.disabled_reason == "manual"
    assert run("accounts", "enable", "B@example.com").stdout == "enabled b@example.com\n"
    account = store.get("b@example.com")
    assert account is not None and not account.disabled and account.disabled_reason == ""
    assert run("accounts", "remove", "a@example.com").stdout == "removed a@example.com\n"
    assert [a.email for a in store.load_all()] == ["b@example.com"]


@pytest.mark.parametrize("command", ["remove", "enable", "disable"])
def test_accounts_unknown_email(run: Run, data_dir: Path, command: str) -> None:
    seed(data_dir)
    one_line_error(run("accounts", command, "ghost@example.com"), "no account ghost@example.com")


def test_accounts_add_empty_token(run: Run) -> None:
    one_line_error(run("accounts", "add", "--refresh-token", "-", stdin="  \n"),
                   "refresh token is empty")


def test_accounts_add_network_error_is_one_line(run: Run, data_dir: Path) -> None:
    run("config", "set", "upstream.oauth_token_url", "http://127.0.0.1:9/token")
    result = run("accounts", "add", "--refresh-token", "1//whatever")
    one_line_error(result, "unreachable")
    assert "1//whatever" not in result.output


# --- serve and usage -------------------------------------------------------------------------

def test_serve_calls_the_runner(run: Run, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []

    def fake_run(settings: Any, path: Path, *, host: str | None, port: int | None,
                 log_format: str = "text", worker: int | None = None) -> None:
        calls.append((settings.proxy.port, path, host, port))

    import antigravity_gateway.runner as runner

    monkeypatch.setattr(runner, "run", fake_run)
    assert run("serve", "--port", "9123", "--host", "0.0.0.0").exit_code == 0
    assert run("serve", env={"AGM_PORT": "9200"}).exit_code == 0
    assert calls == [(8045, data_dir, "0.0.0.0", 9123), (9200, data_dir, None, None)]


def test_serve_refuses_workers_without_shared_state(run: Run) -> None:
    result = run("serve", "--workers", "2")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1  # one line
    assert 'backend = "redis"' in result.output and "--workers 2" in result.output


def test_usage_errors_exit_2(run: Run) -> None:
    assert run("accounts", "add").exit_code == 2
    assert run("nonsense").exit_code == 2
    assert run("serve", "--port", "0").exit_code == 2


def test_help_and_version(run: Run) -> None:
    assert run("--help").exit_code == 0
    assert "agm" in run("--version").stdout
