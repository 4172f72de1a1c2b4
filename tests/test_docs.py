"""Code in docs/, the README and every module's docstrings runs as doctests, so none can drift from the code."""

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
MODULES = sorted(p.stem for p in (ROOT / "minidqn").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("page", [p for p in PAGES if p.exists()], ids=lambda p: p.name)
def test_doc_examples_run(page):
    result = doctest.testfile(str(page), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    result = doctest.testmod(importlib.import_module(f"minidqn.{name}"), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
