"""docs/architecture.md §1 and §2, enforced: the import direction and the size limits."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "antigravity_gateway"
PACKAGE = "antigravity_gateway"
MODULES = sorted(p for p in SRC.rglob("*.py"))

# What each layer may import from the package (besides itself).
ALLOWED = {
    "core": set(),
    "protocols": {"core", "errors"},
    "routing": {"core", "errors", "settings"},
    "accounts": {"core", "errors", "settings", "state"},
    "state": {"core", "errors", "settings"},
    "providers": {"core", "errors", "settings", "protocols", "routing", "accounts", "state"},
    "errors": set(),
    "settings": {"errors", "file_poll"},  # file_poll: a leaf, it imports nothing of ours
}
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _layer(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    return rel.parts[0]


def _imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    depth = len(path.relative_to(SRC).parts) - 1
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = list(path.relative_to(SRC).parent.parts)[: depth - node.level + 1]
                target = [*parts, *(node.module or "").split(".")] if node.module else parts
                if not target or not target[0]:
                    names = [a.name for a in node.names]
                    found.update(names)
                    continue
                found.add(target[0])
            elif node.module and node.module.startswith(PACKAGE + "."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE + "."):
                    found.add(alias.name.split(".")[1])
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_import_direction(path: Path) -> None:
    layer = _layer(path)
    if layer not in ALLOWED:
        return
    bad = _imported_layers(path) - ALLOWED[layer] - {layer, "__init__"}
    assert not bad, f"{path.relative_to(SRC)} ({layer}) imports {sorted(bad)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_sizes(path: Path) -> None:
    text = path.read_text()
    assert text.count("\n") <= MAX_MODULE_LINES, f"{path.name} is over {MAX_MODULE_LINES} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= MAX_FUNCTION_LINES, f"{path.name}:{node.name} has {length} lines"
