"""Shared test settings: tests run the docstring examples too and report the largest gradient errors."""

import numpy as np
import pytest

# Largest relative gradient error measured per component, printed at the end of the run.
MAX_GRAD_ERROR: dict[str, float] = {}


@pytest.fixture
def record_grad_error():
    """Call with (component, error): keeps the largest error seen per component."""

    def record(component: str, error: float) -> None:
        MAX_GRAD_ERROR[component] = max(error, MAX_GRAD_ERROR.get(component, 0.0))

    return record


def pytest_terminal_summary(terminalreporter):
    if MAX_GRAD_ERROR:
        terminalreporter.section("largest relative gradient error per component")
        for component, error in sorted(MAX_GRAD_ERROR.items()):
            terminalreporter.write_line(f"{component:<34} {error:.2e}")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
