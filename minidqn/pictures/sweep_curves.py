"""The learning curves of a sweep: per configuration, the IQM of its trials' greedy evaluations with a 95% band.

Each trial is evaluated at the end of the first episode after every K env steps, so trials are
measured at slightly different steps; each trial's curve is read at common points by linear
interpolation (np.interp), from the step where every trial has been measured once to the end
(holding a trial's last value beyond its last evaluation), and at every point the
configuration's trials give an interquartile mean and a stratified-bootstrap interval
(minidqn.stats), drawn as a line over a band.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import StrMethodFormatter

from minidqn.stats import bootstrap_ci, iqm


def plot_sweep_curves(curves: dict[str, list[tuple[np.ndarray, np.ndarray]]], steps: int, path: Path,
                      target: float | None = None, title: str = "", points: int = 40) -> Path:
    """Draw `path`: for each configuration name, its trials' (env steps, mean return) curves as
    their IQM over a band from the 95% interval's low to high, at `points` common steps."""
    firsts = [s[0] for trials in curves.values() for s, _ in trials if len(s)]
    x = np.linspace(max(firsts, default=0), steps, points)  # (T,): from where every trial has been measured
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=110)
    for name, trials in curves.items():
        trials = [(s, r) for s, r in trials if len(s)]
        if not trials:
            continue
        runs = np.array([np.interp(x, s, r) for s, r in trials])  # (N, T): each trial at the common steps
        middle = iqm(runs, axis=0)  # (T,)
        (line,) = ax.plot(x, middle, lw=1.8, label=f"{name} (IQM of {len(runs)})")
        if len(runs) > 1:
            bands = np.array([bootstrap_ci(runs[:, t], reps=2_000, seed=t) for t in range(len(x))])  # (T, 2)
            ax.fill_between(x, bands[:, 0], bands[:, 1], color=line.get_color(), alpha=0.2, lw=0)
    if target is not None:
        ax.axhline(target, color="tab:green", ls="--", lw=1, label=f"solved ({target:g})")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("greedy evaluation return")
    ax.set_title(title or "learning curves: IQM over trials, 95% bootstrap band")
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
