"""`agm upstreams list|test` and `config set` refusing bad [[upstreams]] entries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from antigravity_gateway import cli
from tests.fakes.keyed import FakeKeyed, KeyedThread
from tests.fakes.keyed_render import fault, say

from .test_cli import one_line_error


@pytest.fixture
def keyed() -> Iterator[FakeKeyed]:
    with KeyedThread(keys={"good-key-1"}) as fake:
        yield fake


@pytest.fixture
def run(tmp_path: Path):
    def invoke(*args: str) -> Result:
        runner = CliRunner(env={"COLUMNS": "200", "AGM_DATA_DIR": str(tmp_path / "data")})
        return runner.invoke(cli.main, list(args), catch_exceptions=False)

    return invoke


def _configure(run, keyed: FakeKeyed, keys: list[str]) -> None:
    entry = (f'[{{name="oa", kind="openai", base_url="{keyed.url("/v1")}", '
             f'api_keys={json.dumps(keys)}, models=["small-model", "gpt-*"]}}]')
    assert run("config", "set", "upstreams", entry).exit_code == 0


def test_list_shows_upstreams_without_keys(run, keyed: FakeKeyed) -> None:
    assert "no upstreams" in run("upstreams", "list").output
    _configure(run, keyed, ["good-key-1"])
    assert run("config", "set", "zai.enabled", "true").exit_code == 0
    assert run("config", "set", "zai.api_key", "zai-secret-key").exit_code == 0
    assert run("config", "set", "zai.dispatch_mode", "fallback").exit_code == 0
    listed = json.loads(run("upstreams", "list", "--json").output)["upstreams"]
    assert [(u["name"], u["kind"], u["keys"]) for u in listed] == [
        ("oa", "openai", 1), ("zai", "anthropic", 1)]
    assert listed[1]["base_url"] == "https://api.z.ai/api/anthropic"
    table = run("upstreams", "list").output
    assert "oa" in table and "small-model, gpt-*" in table and "good-key-1" not in table


def test_test_prints_latency_and_the_answer(run, keyed: FakeKeyed) -> None:
    _configure(run, keyed, ["bad-key", "good-key-1"])
    keyed.script(fault(503, "busy"), say("OK"))
    result = run("upstreams", "test", "oa")
    assert result.exit_code == 0, result.output
    head, answer = result.output.strip().splitlines()
    assert head.startswith("oa/small-model via oa#") and head.endswith(" ms")
    assert answer == "OK"
    assert [c.body["max_tokens"] for c in keyed.calls("openai")][-1] == 16


def test_test_names_unknown_upstreams_and_failures(run, keyed: FakeKeyed) -> None:
    _configure(run, keyed, ["bad-key"])
    one_line_error(run("upstreams", "test", "nope"), "no upstream named 'nope'", "oa")
    one_line_error(run("upstreams", "test", "oa", "--model", "m"), "refused by upstream oa")


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ('[{name="x", kind="bogus", base_url="http://a", api_keys=["k"]}]', "upstreams.x.kind"),
        ('[{name="x", kind="openai", base_url="ftp://a", api_keys=["k"]}]',
         "upstreams.x.base_url"),
        ('[{name="x", kind="openai", base_url="http://a", api_keys=[]}]', "upstreams.x.api_keys"),
        ('[{name="x", kind="openai", base_url="http://a", api_keys=["k"]}, '
         '{name="x", kind="openai", base_url="http://b", api_keys=["k"]}]', "upstreams.x.name"),
        ('[{name="a/b", kind="openai", base_url="http://a", api_keys=["k"]}]',
         "upstreams.a/b.name"),
    ],
    ids=["kind", "url", "no-key", "duplicate", "slash"],
)
def test_config_set_refuses_bad_entries(run, entry: str, key: str) -> None:
    one_line_error(run("config", "set", "upstreams", entry), key)
    config = Path(run("config", "path").output.strip())
    assert not config.exists() or "api_keys" not in config.read_text()  # nothing written
