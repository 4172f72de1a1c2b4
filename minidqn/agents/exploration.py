"""Exploration by Boltzmann (softmax) sampling: the alternative to ε-greedy in keras-rl's tutorial.

ε-greedy explores uniformly: with probability ε any action, however bad its Q. Boltzmann
exploration (keras-rl's BoltzmannQPolicy) draws a with probability

    P(a|s) = exp(Q(s,a)/T) / Σₐ′ exp(Q(s,a′)/T)

so actions with close values are tried about equally and clearly worse ones rarely. The
temperature T sets the scale: as T → 0 it becomes greedy, as T → ∞ uniform. Q-values on CartPole
reach 1/(1 − γ) = 200, so T must be read in units of Q.

    >>> boltzmann_probabilities(np.array([1.0, 2.0, 3.0]), temperature=1.0).round(3)
    array([0.09 , 0.245, 0.665])
    >>> boltzmann_probabilities(np.array([1000.0, 1001.0]), temperature=0.01).round(3)  # no overflow
    array([0., 1.])
"""

from __future__ import annotations

import numpy as np


def boltzmann_probabilities(q: np.ndarray, temperature: float) -> np.ndarray:
    """P(a|s) for the Q-values q: (A,) -> (A,) in float64. Computed as exp((Q − max Q)/T): the
    factor exp(−max Q/T) cancels in the fraction, and no exponent is positive, so none overflows."""
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    q = np.asarray(q, dtype=np.float64)
    e = np.exp((q - q.max()) / temperature)  # (A,), the largest is exp(0) = 1
    return e / e.sum()
