"""docs/start_here.ipynb runs top to bottom against the code as it is, so it cannot drift from it."""

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "start_here.ipynb"


def test_the_notebook_walks_the_twelve_steps_and_is_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    headings = [cell.source.splitlines()[0] for cell in notebook.cells if cell.cell_type == "markdown"]
    steps = [int(match.group(1)) for line in headings if (match := re.match(r"## (\d+)\. ", line))]
    assert steps == list(range(1, 13))
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert sum("solution" in cell.metadata.get("tags", []) for cell in code) >= 8


def test_the_notebook_runs_top_to_bottom(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits it: figures are drawn, not shown
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    printed = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.outputs)
    assert "identical futures after the meeting: True" in printed
    assert "the target is r alone" in printed
