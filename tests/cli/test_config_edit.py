"""`agm config set/unset` keep the user's comments and order; `get` masks secrets; lists may be
typed as comma-separated text."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Run
from tests.cli.test_cli import one_line_error

HAND_WRITTEN = """\
# my gateway
[proxy]
# the port my tools expect
port = 9000
api_key = "sk-0123456789abcdef"  # keep this one

[models.custom_mapping]
# aliases
"gpt-4.1" = "gemini-3-flash"
"""


def write(data_dir: Path, text: str) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "config.toml"
    path.write_text(text)
    return path


def test_set_keeps_comments_and_order(run: Run, data_dir: Path) -> None:
    path = write(data_dir, HAND_WRITTEN)
    assert run("config", "set", "proxy.auth_mode", "strict").exit_code == 0
    assert run("config", "set", "models.custom_mapping.o3", "gemini-3-pro-high").exit_code == 0
    assert run("config", "set", "proxy.port", "9001").exit_code == 0
    text = path.read_text()
    for comment in ("# my gateway", "# the port my tools expect", "# keep this one", "# aliases"):
        assert comment in text
    assert text.index("port = 9001") < text.index("api_key") < text.index('auth_mode = "strict"')
    assert '"gpt-4.1" = "gemini-3-flash"' in text and 'o3 = "gemini-3-pro-high"' in text
    assert run("config", "get", "models.custom_mapping.gpt-4.1").stdout == "gemini-3-flash\n"


def test_unset_goes_back_to_the_default(run: Run, data_dir: Path) -> None:
    path = write(data_dir, HAND_WRITTEN)
    result = run("config", "unset", "proxy.port")
    assert result.exit_code == 0 and result.stdout == "proxy.port = 8045 (default)\n"
    assert "port = 9000" not in path.read_text() and "# my gateway" in path.read_text()
    assert run("config", "get", "proxy.port").stdout == "8045\n"
    result = run("config", "unset", "models.custom_mapping.gpt-4.1")
    assert result.exit_code == 0 and result.stdout == "models.custom_mapping.gpt-4.1 removed\n"
    assert "gpt-4.1" not in path.read_text()
    assert run("config", "get", "models.custom_mapping").stdout == "{}\n"


def test_unset_unknown_key_is_one_line(run: Run, data_dir: Path) -> None:
    write(data_dir, HAND_WRITTEN)
    one_line_error(run("config", "unset", "proxy.nope"), "unknown setting: proxy.nope")
    one_line_error(run("config", "unset", "models.custom_mapping.none"),
                   "unknown setting: models.custom_mapping.none")


def test_get_masks_secrets_unless_reveal(run: Run, data_dir: Path) -> None:
    write(data_dir, HAND_WRITTEN)
    assert run("config", "get", "proxy.api_key").stdout == "sk-0…cdef\n"
    assert run("config", "get", "proxy.api_key", "--reveal").stdout == "sk-0123456789abcdef\n"
    assert "sk-0123456789abcdef" not in run("config", "get", "proxy").stdout


def test_list_as_comma_separated_text(run: Run, data_dir: Path) -> None:
    write(data_dir, HAND_WRITTEN)
    result = run("config", "set", "proxy.cors_origins", "https://a.example, https://b.example")
    assert result.exit_code == 0
    assert run("config", "get", "proxy.cors_origins").stdout == (
        '["https://a.example", "https://b.example"]\n')
    run("config", "set", "upstream.cloudcode_base_urls", "http://a:1")
    assert run("config", "get", "upstream.cloudcode_base_urls").stdout == '["http://a:1"]\n'
    run("config", "set", "warmup.models", '["x", "y"]')  # TOML still works
    assert run("config", "get", "warmup.models").stdout == '["x", "y"]\n'


def test_set_says_when_a_restart_is_needed(run: Run, data_dir: Path) -> None:
    write(data_dir, HAND_WRITTEN)
    assert "restart" in run("config", "set", "proxy.port", "9100").stderr
    assert "restart" in run("config", "set", "proxy.allow_lan_access", "true").stderr
    assert run("config", "set", "proxy.auth_mode", "strict").stderr == ""
