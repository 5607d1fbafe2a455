"""Docstrings and docs point only at files in the repository; the README's two commands install
into a virtual environment (so they work where the system Python refuses `pip install`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(
    p for pattern in ("src/**/*.py", "tests/**/*.py", "bench/**/*.py", "**/*.md")
    for p in ROOT.glob(pattern)
    if not {".venv", "node_modules", "build"} & set(p.relative_to(ROOT).parts)
    and ".venv-litellm" not in p.relative_to(ROOT).parts  # bench/run.py's peer, gitignored
    and p != Path(__file__).resolve()
)
OUTSIDE = re.compile(r"HANDBOOK|INTERFACE\.md|(?<![\w-])reference/|antigravity-tools\.md|"
                     r"cloudcode-v1internal|real-clients\.md|peers\.md|seeds/|team docs")
DOC_LINK = re.compile(r"\b((?:docs|bench)/[\w./-]+\.md)\b")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_references_stay_in_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not OUTSIDE.search(text), f"{path.name} cites a document outside the repository"
    for target in DOC_LINK.findall(text):
        assert (ROOT / target).is_file(), f"{path.name} cites {target}, which does not exist"


def test_docs_sections_cited_exist() -> None:
    headings = (ROOT / "docs" / "upstream.md").read_text()
    cited = set()
    for path in SOURCES:
        for match in re.finditer(r"docs/upstream\.md §(\d+(?:\.\d+)?)", path.read_text()):
            cited.add(match[1])
    for section in cited:
        assert re.search(rf"^#+ {re.escape(section)}\.? ", headings, re.M), section


def test_readme_commands_use_a_virtual_environment() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    install = next(b for b in blocks if "agm serve" in b).strip()
    tests = next(b for b in blocks if "tests.isolated" in b).strip()
    assert install == (
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/agm serve")
    assert tests.startswith("python3 -m venv .venv && .venv/bin/pip install -e '.[test]'")
    assert tests.endswith(".venv/bin/python -m tests.isolated")
