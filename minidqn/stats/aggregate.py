"""The interquartile mean, a stratified bootstrap confidence interval, and the probability of improvement.

Scores are final returns (or any per-run measure): a vector (runs,) for one task, or an array
(runs, tasks) when one setting was run on several tasks, each column a task's runs. Following
Agarwal et al. (2021) and their library rliable:

- `iqm(scores)`: the interquartile mean, the mean of the middle half of all scores. Unlike the
  mean, one collapsed run cannot drag it; unlike the median, it still uses half of the runs.
- `bootstrap_ci(scores, statistic=iqm)`: a 95% confidence interval for any such statistic, by
  resampling runs with replacement (within each task: "stratified") and reading the 2.5th and
  97.5th percentiles of the statistic over the resamples.
- `probability_of_improvement(x, y)`: P(X > Y), the chance that a run of setting x scores
  higher than a run of setting y on the same task (ties count half), averaged over tasks.

    >>> scores = np.array([10.0, 480, 490, 500, 500, 500, 500, 500, 500, 20])
    >>> float(scores.mean()), float(iqm(scores))  # two collapsed runs pull the mean, not the IQM
    (400.0, 495.0)
    >>> low, high = bootstrap_ci(scores, seed=0)
    >>> bool(low < iqm(scores) <= high)
    True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def iqm(scores, axis: int | None = None) -> np.ndarray:
    """The interquartile mean: sort the n scores, drop the lowest and the highest k = ⌊n/4⌋, and
    average the n − 2k left (scipy.stats.trim_mean(scores, 0.25), rliable's IQM). For n = 10 that
    is the mean of the middle 6. With `axis`, along that axis; without, over all scores."""
    x = np.asarray(scores, dtype=np.float64)
    if axis is None:
        x, axis = x.reshape(-1), 0
    n = x.shape[axis]
    if n == 0:
        raise ValueError("iqm of no scores is not defined")
    k = n // 4
    middle = np.take(np.sort(x, axis=axis), np.arange(k, n - k), axis=axis)  # the n − 2k middle scores
    return middle.mean(axis=axis)


def bootstrap_ci(scores, statistic: Callable = iqm, confidence: float = 0.95, reps: int = 10_000,
                 seed: int = 0) -> tuple[float, float]:
    """(low, high): a `confidence` interval for statistic(scores) by the percentile bootstrap.

    Each of `reps` resamples draws, for every task (column) separately, as many runs as it has,
    with replacement; the statistic of a resample is computed over all its scores, as on the
    data. The interval holds the middle `confidence` of those statistics: from the
    (1 − confidence)/2 quantile to the (1 + confidence)/2 quantile. `statistic(x, axis)` must take
    an `axis` (iqm, np.mean and np.median do): it is applied to all resamples at once.
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]  # one task
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"scores must be (runs,) or (runs, tasks) with at least one run, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("scores must be finite numbers")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if not (isinstance(reps, int) and reps >= 1):
        raise ValueError(f"reps must be a positive integer, got {reps!r}")
    runs, tasks = x.shape
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, runs, size=(reps, runs, tasks))  # for each resample, task by task: which runs
    resamples = x[rows, np.arange(tasks)]  # (reps, runs, tasks): run rows[r, i, t] of task t
    values = statistic(resamples.reshape(reps, runs * tasks), axis=1)  # (reps,)
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def probability_of_improvement(x, y) -> float:
    """P(X > Y) = (1/T) Σ_t (1/(n·m)) Σᵢ Σⱼ S(x_it, y_jt), with S(a, b) = 1 if a > b, ½ if a = b,
    0 otherwise: the Mann–Whitney U statistic of each task, divided by n·m, averaged over the T
    tasks. x: (n,) or (n, T) runs of one setting, y: (m,) or (m, T) of the other, on the same
    tasks. 0.5 means neither is better; rliable asks for the upper end of its CI above 0.5."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    x, y = (a[:, None] if a.ndim == 1 else a for a in (x, y))
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or len(x) == 0 or len(y) == 0:
        raise ValueError(f"x and y must be runs (n, T) and (m, T) on the same T tasks, got {x.shape} and {y.shape}")
    wins = (x[:, None, :] > y[None, :, :]) + 0.5 * (x[:, None, :] == y[None, :, :])  # (n, m, T): S(x_it, y_jt)
    return float(wins.mean(axis=(0, 1)).mean())
