"""minidqn.stats against independent computations: scipy.stats and cases worked by hand."""

import numpy as np
import pytest

from minidqn.stats import bootstrap_ci, iqm, probability_of_improvement

stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 10, 11, 50])
def test_iqm_is_scipys_quarter_trimmed_mean(n):
    scores = np.random.default_rng(n).normal(size=n) * 100
    assert iqm(scores) == pytest.approx(stats.trim_mean(scores, 0.25), rel=1e-12)


def test_iqm_by_hand_over_all_runs_of_all_tasks_and_along_an_axis():
    scores = np.array([[1.0, 10], [2, 20], [3, 30], [4, 40]])  # (4 runs, 2 tasks)
    assert iqm(scores) == pytest.approx((3 + 4 + 10 + 20) / 4)  # 8 scores: drop 1, 2 and 30, 40
    np.testing.assert_allclose(iqm(scores, axis=0), [2.5, 25.0])  # 4 runs a task: the middle 2
    with pytest.raises(ValueError, match="no scores"):
        iqm([])


def test_the_bootstrap_of_two_runs_is_the_enumerated_one():
    """Two runs, 0 and 1: a resample's mean is 0, ½ or 1 with probabilities ¼, ½, ¼, so the 2.5%
    and 97.5% quantiles of the resampled means are 0 and 1."""
    assert bootstrap_ci([0.0, 1.0], statistic=np.mean, reps=20_000, seed=1) == (0.0, 1.0)
    assert bootstrap_ci([0.0, 1.0], statistic=np.mean, confidence=0.4, reps=20_000, seed=1) == (0.5, 0.5)


def test_constant_scores_have_a_zero_width_interval():
    assert bootstrap_ci(np.full(7, 475.0), seed=3) == (475.0, 475.0)


def test_the_bootstrap_agrees_with_scipys_percentile_bootstrap():
    scores = np.random.default_rng(4).gamma(2.0, 50.0, size=30)
    ours = bootstrap_ci(scores, statistic=np.mean, reps=20_000, seed=5)
    theirs = stats.bootstrap((scores,), np.mean, confidence_level=0.95, n_resamples=20_000, method="percentile",
                             random_state=6).confidence_interval
    width = theirs.high - theirs.low
    assert abs(ours[0] - theirs.low) < 0.05 * width and abs(ours[1] - theirs.high) < 0.05 * width


def test_the_bootstrap_resamples_runs_within_each_task():
    """Task 0 scores 0 on every run and task 1 scores 100: a stratified resample always holds as
    many of each, so its mean is always 50 (resampling all scores together, it would not be)."""
    scores = np.column_stack([np.zeros(6), np.full(6, 100.0)])
    assert bootstrap_ci(scores, statistic=np.mean, seed=0) == (50.0, 50.0)
    low, high = bootstrap_ci(scores.reshape(-1), statistic=np.mean, seed=0)
    assert low < 40 and high > 60


def test_a_95_percent_interval_covers_the_true_mean_about_95_times_in_100():
    rng = np.random.default_rng(7)
    covered = [low <= 1.0 <= high for low, high in
               (bootstrap_ci(rng.exponential(1.0, size=40), statistic=np.mean, reps=2_000, seed=i) for i in range(300))]
    assert 0.88 <= np.mean(covered) <= 0.99  # the percentile bootstrap undercovers a little at n = 40


def test_the_probability_of_improvement_is_the_mann_whitney_u_over_n_m():
    rng = np.random.default_rng(8)
    x, y = rng.integers(0, 5, size=12).astype(float), rng.integers(0, 5, size=9).astype(float)  # with ties
    u = stats.mannwhitneyu(x, y).statistic  # counts ties as ½
    assert probability_of_improvement(x, y) == pytest.approx(u / (len(x) * len(y)))
    assert probability_of_improvement(x, x) == 0.5 and probability_of_improvement(x + 10, y) == 1.0
    two_tasks = probability_of_improvement(np.column_stack([x, x + 10]), np.column_stack([y, y]))
    assert two_tasks == pytest.approx((u / (len(x) * len(y)) + 1.0) / 2)  # the mean over tasks


@pytest.mark.parametrize("call, message", [
    (lambda: bootstrap_ci(np.zeros((0, 2))), "at least one run"),
    (lambda: bootstrap_ci([1.0, np.nan]), "finite"),
    (lambda: bootstrap_ci([1.0, 2.0], confidence=1.0), "confidence"),
    (lambda: bootstrap_ci([1.0, 2.0], reps=0), "reps"),
    (lambda: probability_of_improvement(np.zeros((3, 2)), np.zeros((3, 3))), "same T tasks"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
