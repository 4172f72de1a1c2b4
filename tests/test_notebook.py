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
    answers, solutions = exercises(notebook)
    assert len(answers) == len(solutions) == 8
    assert all("= None" in cell.source for cell in answers)  # the reader's cell starts unanswered
    assert all(cell.cell_type == "markdown" for cell in solutions)  # shown folded, never run by Run All


def exercises(notebook) -> tuple[list, list]:
    """The answer cells, and the solution cells after them, in order."""
    tagged = [(cell, cell.metadata.get("tags", [])) for cell in notebook.cells]
    return [cell for cell, tags in tagged if "answer" in tags], [cell for cell, tags in tagged if "solution" in tags]


def test_the_notebook_runs_top_to_bottom_and_its_checks_read_the_readers_answers(monkeypatch):
    """Answers filled in as a reader would: six with the folded solutions, one wrong, one left
    blank; each check must say which is which."""
    monkeypatch.setenv("MPLBACKEND", "Agg")  # the kernel inherits it: figures are drawn, not shown
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    answers, solutions = exercises(notebook)
    for number, (answer, solution) in enumerate(zip(answers, solutions), start=1):
        if number == 1:
            answer.source = "prediction, learned = 10.0, 10.5  # wrong: Q is not 1/(1 − γ)/2"
        elif number != 8:  # 8 stays unanswered
            answer.source = re.search(r"```python\n(.*?)```", solution.source, re.DOTALL).group(1)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    printed = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.outputs)
    assert "identical futures after the meeting: True" in printed
    assert "the target is r alone" in printed
    assert "✗ exercise 1: you predicted 10.00" in printed
    assert all(f"✓ exercise {n}:" in printed for n in range(2, 8)), printed[-3000:]
    assert "exercise 8: not answered yet" in printed


BEYOND = NOTEBOOK.parent / "beyond_dqn.ipynb"


def test_beyond_dqn_runs_and_its_checks_read_the_readers_answers(monkeypatch):
    """The Rainbow notebook: stored without outputs, its answers unanswered; run with one answer
    from its solution, one wrong and one blank, each check says which."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(BEYOND, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    answers, solutions = exercises(notebook)
    assert len(answers) == len(solutions) == 3 and all("= None" in cell.source for cell in answers)
    answers[0].source = re.search(r"```python\n(.*?)```", solutions[0].source, re.DOTALL).group(1)
    answers[1].source = "levels = [0.25, 0.5, 0.75, 1.0]  # wrong: the ends of the slices, not their midpoints"
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(BEYOND.parent)}})
    client.execute()
    printed = "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                      for output in cell.outputs)
    assert "relative error of the gradient" in printed and "mean weights:" in printed
    assert "✓ exercise 1:" in printed and "✗ exercise 2:" in printed and "exercise 3: not answered yet" in printed
