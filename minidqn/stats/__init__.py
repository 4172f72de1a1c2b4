"""Honest statistics of many runs: the interquartile mean, bootstrap confidence intervals, and the probability of improvement.

`aggregate` holds the three, after Agarwal et al. (2021), "Deep Reinforcement Learning at the
Edge of the Statistical Precipice": with the handful of seeds RL experiments can afford, a mean
is pulled about by one collapsed or one lucky run, and a number without its uncertainty cannot
say whether one setting beats another. docs/experiments.md shows how to read them.

May import: nothing of minidqn.
"""

from minidqn.stats.aggregate import bootstrap_ci, iqm, probability_of_improvement

__all__ = ["bootstrap_ci", "iqm", "probability_of_improvement"]
