"""The tree's promise, checked: each part of minidqn imports only the parts its docstring allows,
the parts stack in layers with no loop, and every module and function fits in one sitting."""

from __future__ import annotations

import ast
import dataclasses
import io
import tokenize
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from minidqn.pictures.code_map import (
    imported_modules,
    layers,
    may_import,
    module_name,
    read_parts,
)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "minidqn"
PARTS_READ = read_parts()  # each part's modules, and what its docstring's line "May import:" allows
PARTS = sorted(PARTS_READ)
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES, MAX_FUNCTION_CODE_LINES = 300, 50


def part_of(module: str) -> str | None:
    """The sub-package a module belongs to ("memory" for minidqn.memory.ring), None for the root."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 and pieces[1] in PARTS else None


def allowed_parts(part: str) -> set[str]:
    return PARTS_READ[part].may_import


def test_the_import_reader_sees_lazy_and_relative_imports():
    source = "import os\nfrom minidqn.memory import ring\n\ndef f():\n    from minidqn.cli.presets import PRESETS\n" \
             "    import importlib; importlib.import_module('minidqn.pictures.plotting')\nfrom .sum_tree import SumTree\n"
    assert imported_modules(source, "minidqn.memory") == {
        "minidqn.memory.ring", "minidqn.cli.presets", "minidqn.pictures.plotting", "minidqn.memory.sum_tree"}


@pytest.mark.parametrize("part", PARTS)
def test_each_part_says_what_it_may_import(part):
    assert allowed_parts(part) <= set(PARTS) - {part}


def test_the_parts_stack_in_layers_with_no_loop():
    stack = layers(PARTS_READ)
    assert stack[0] == ["common", "stats"] and stack[-1] == ["cli"]  # the two that import nothing of minidqn
    for row, names in enumerate(stack):  # each part may import only parts of lower layers
        below = {name for lower in stack[:row] for name in lower}
        assert all(allowed_parts(name) <= below for name in names)


def test_a_circle_of_allowed_imports_is_refused():
    circle = {name: dataclasses.replace(part) for name, part in PARTS_READ.items()}
    circle["common"].may_import = {"cli"}
    with pytest.raises(ValueError, match="circle"):
        layers(circle)
    with pytest.raises(ValueError, match="May import"):
        may_import("A part.\n\nIt forgot the line.")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_part_above_its_own(path):
    name = module_name(path)
    part = part_of(name)
    if part is None:  # the package's face (__init__, __main__) stands above every part
        return
    allowed = allowed_parts(part) | {part}
    imports = imported_modules(path.read_text(), name if path.name == "__init__.py" else name.rsplit(".", 1)[0])
    wrong = sorted(module for module in imports if part_of(module) not in allowed)
    assert not wrong, f"{name} (in minidqn.{part}, which may import {sorted(allowed)}) imports {wrong}"


def test_the_package_face_hands_on_no_picture_and_no_command_line():
    """`import minidqn` (which any `import minidqn.x` runs first) loads neither matplotlib's part nor the CLI."""
    imports = imported_modules((PACKAGE / "__init__.py").read_text(), "minidqn")
    assert not {part_of(module) for module in imports} & {"pictures", "cli"}


def test_no_modules_import_each_other_in_a_circle():
    graph = {module_name(path): imported_modules(path.read_text(), module_name(path).rsplit(".", 1)[0]) - {"minidqn"}
             for path in MODULES if path.name != "__init__.py"}
    graph = {module: {other for other in imports if other in graph} for module, imports in graph.items()}
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as error:
        pytest.fail(f"modules import each other in a circle: {error.args[1]}")


def test_no_demo_imports_another_demo():
    demos = {path.stem for path in (ROOT / "demos").glob("*.py")}
    for path in (ROOT / "demos").glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not imported & demos, f"demos/{path.name} imports another demo: {sorted(imported & demos)}"


def test_no_demo_hides_a_package_of_the_same_name():
    """`python demos/X.py` puts demos/ first on sys.path, where X.py would hide an installed package X."""
    import importlib.util

    hidden = sorted(path.stem for path in (ROOT / "demos").glob("*.py") if importlib.util.find_spec(path.stem))
    assert not hidden, f"demos named like an importable package: {hidden}"


def code_lines(source: str, start: int, end: int) -> int:
    """Lines start..end (1-based, inclusive) that hold code: not blank, not only a comment, not a docstring."""
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    with_code = {token.start[0] for token in tokenize.generate_tokens(io.StringIO(source).readline)
                 if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)}
    return len({line for line in with_code if start <= line <= end} - docstrings)


def test_code_lines_leave_out_docstrings_comments_and_blanks():
    source = 'def f(x):\n    """Doc,\n    two lines."""\n    # a comment\n\n    y = x\n    return (y +\n            1)\n'
    assert code_lines(source, 1, 8) == 4


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_and_function_fits_in_one_sitting(path):
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_MODULE_LINES, f"{path.name} has more than {MAX_MODULE_LINES} lines"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = code_lines(source, node.lineno, node.end_lineno)
            assert n <= MAX_FUNCTION_CODE_LINES, f"{path.name}: {node.name} has {n} lines of code"
