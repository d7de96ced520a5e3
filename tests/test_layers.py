"""The import rules of the house (../shared/DESIGN.md), checked on every module: flows may import everything;
sources, transforms and outputs only expectations (and themselves); expectations nothing internal."""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INTERNAL = {"flows", "sources", "transforms", "outputs", "expectations", "examples"}
MAY_IMPORT = {
    "flows": INTERNAL,
    "sources": {"sources", "expectations"},
    "transforms": {"transforms", "expectations"},
    "outputs": {"outputs", "expectations"},
    "expectations": {"expectations"},
}
MODULES = sorted(path for layer in MAY_IMPORT for path in (REPO / layer).rglob("*.py"))


def imported_packages(source: str) -> set[str]:
    """The top-level internal packages a module imports, anywhere in it (also inside functions); a relative
    import stays in its own package."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & INTERNAL


def test_the_rule_sees_every_kind_of_import() -> None:
    source = "import flows.cli\nfrom outputs.store import versions\ndef f():\n    from transforms import graph\n" \
             "from . import sibling\nimport pandas\n"
    assert imported_packages(source) == {"flows", "outputs", "transforms"}


def test_every_layer_has_modules() -> None:
    assert {path.relative_to(REPO).parts[0] for path in MODULES} == set(MAY_IMPORT)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.relative_to(REPO).as_posix())
def test_a_module_imports_only_what_its_layer_may(path: Path) -> None:
    layer = path.relative_to(REPO).parts[0]
    forbidden = imported_packages(path.read_text(encoding="utf-8")) - MAY_IMPORT[layer]
    assert not forbidden, f"{path.relative_to(REPO)} ({layer}/) imports {sorted(forbidden)}: DESIGN.md allows " \
                          f"{layer}/ only {sorted(MAY_IMPORT[layer])}"
