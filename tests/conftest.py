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


@pytest.fixture
def ctrl_c_at_episode_5(monkeypatch):
    """Ctrl-C (SIGINT to this process) as the fifth episode of a run folder's training ends;
    the monkeypatch it is set with, whose undo() takes it away."""
    import signal

    from minidqn.cli import run_folder

    original, calls = run_folder.EpisodeCSV.__call__, []

    def pressed_at_episode_5(self, agent, episode):
        calls.append(episode.episode)
        if len(calls) == 5:
            signal.raise_signal(signal.SIGINT)  # training stops at the end of this step
        return original(self, agent, episode)

    monkeypatch.setattr(run_folder.EpisodeCSV, "__call__", pressed_at_episode_5)
    return monkeypatch
