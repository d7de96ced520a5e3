"""House rules (issue 13) checked on the source: no product function over 80 lines, no flows/ module over 300."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PRODUCT = ("flows", "sources", "transforms", "outputs", "expectations")
MAX_FUNCTION_LINES, MAX_FLOW_MODULE_LINES = 80, 300


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def long_functions(path: Path, root: Path = REPO, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """`file:function (n lines)` for every function (nested and methods included) longer than `limit` lines."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit:
                found.append(f"{path.relative_to(root)}:{node.name} ({length} lines)")
    return found


@pytest.mark.parametrize("package", PRODUCT)
def test_no_product_function_is_over_80_lines(package: str) -> None:
    assert _modules(package)
    assert [f for path in _modules(package) for f in long_functions(path)] == []


def test_no_flows_module_is_over_300_lines() -> None:
    long = [f"{p.relative_to(REPO)} ({n} lines)" for p in _modules("flows")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FLOW_MODULE_LINES]
    assert long == []


def test_the_check_finds_a_long_function(tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    body = "\n".join(f"        x{i} = {i}" for i in range(80))
    path.write_text(f"def short():\n    return 1\n\n\nclass C:\n    def long(self):\n{body}\n", encoding="utf-8")
    assert long_functions(path, tmp_path) == ["probe.py:long (81 lines)"]  # a method, 1 + 80 lines
    assert long_functions(path, tmp_path, limit=81) == []
