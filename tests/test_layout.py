"""The architecture, checked: layers (import-linter), module and function sizes, one training loop.

The layer order lives in ``pyproject.toml`` (``[tool.importlinter]``) and is explained in
CONTRIBUTING.md. import-linter builds the import graph with grimp, which also sees imports
inside functions, so a lazy import cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "survlib"
MAX_MODULE_LINES = 600
MAX_FUNCTION_CODE_LINES = 80
#: the only place where gradients are taken and optimisers step
TRAINING_LOOP = PACKAGE / "train" / "loop.py"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    found = str(exe) if exe.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (it is in the dev extra: pip install -e .[dev])")
    return found


def test_import_layers_contract_holds() -> None:
    proc = subprocess.run(
        [_tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of a module graph: its strongly connected components of more than one
    module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_import_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert import_cycles(graph) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_inside_survlib() -> None:
    """No module imports, even for type checking only, a module that imports it back (the
    layers contract only orders packages; cycles inside one package are caught here)."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("survlib")
    modules = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert import_cycles(modules) == []


def test_no_module_is_over_the_line_limit() -> None:
    too_long = {
        str(p.relative_to(ROOT)): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines: {too_long}"


def _code_lines(node: ast.AST, source_lines: list[str]) -> int:
    """Lines of a function that hold code: not blank, not a comment, not its docstring."""
    body = node.body  # type: ignore[attr-defined]
    doc_lines: set[int] = set()
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(getattr(body[0], "value", None), ast.Constant)
    ):
        if isinstance(body[0].value.value, str):
            doc_lines = set(range(body[0].lineno, body[0].end_lineno + 1))
    count = 0
    for no in range(node.lineno, node.end_lineno + 1):  # type: ignore[attr-defined]
        text = source_lines[no - 1].strip()
        if text and not text.startswith("#") and no not in doc_lines:
            count += 1
    return count


def test_no_function_is_over_the_code_line_limit() -> None:
    offenders = {}
    for path in _modules():
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(node, lines)
                if n > MAX_FUNCTION_CODE_LINES:
                    offenders[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = n
    assert not offenders, f"functions over {MAX_FUNCTION_CODE_LINES} lines of code: {offenders}"


def _gradient_calls(path: Path) -> list[str]:
    """Calls that take gradients or step an optimiser: ``.backward()``, ``.zero_grad()``,
    ``torch.autograd.backward``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in {"backward", "zero_grad"}:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.func.attr}()")
    return found


def test_only_the_training_loop_takes_optimiser_steps() -> None:
    offenders = [c for p in _modules() if p != TRAINING_LOOP for c in _gradient_calls(p)]
    assert not offenders, (
        "optimiser steps outside survlib/train/loop.py (train through survlib.train.fit): "
        + "; ".join(offenders)
    )
    assert _gradient_calls(TRAINING_LOOP), "the checker no longer finds the loop's own steps"


def test_ruff_lint_is_clean() -> None:
    proc = subprocess.run(
        [_tool("ruff"), "check", "--no-cache", "survlib", "tests", "benchmarks", "notebooks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_ruff_format_is_clean() -> None:
    proc = subprocess.run(
        [_tool("ruff"), "format", "--check", "--no-cache", "survlib", "tests", "benchmarks"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
