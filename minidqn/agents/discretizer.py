"""A Discretizer: a Box observation cut into bins per dimension and numbered as one Q-table row.

Dimension d is cut into `bins[d]` equal bins between `low[d]` and `high[d]`; a value below `low`
or above `high` is clipped into the edge bin, so the first and last bins are open-ended. The
per-dimension bin numbers i_d are then read as the digits of one mixed-radix number (the C-order
rule of np.ravel_multi_index), which is the state's row in the Q-table. D is the number of
observation dimensions.

    >>> grid = Discretizer(low=[0.0, -1.0], high=[1.0, 1.0], bins=[4, 2])
    >>> grid.n_states
    8
    >>> grid([0.3, 0.5]), grid([0.3, -0.5]), grid([-7.0, 9.0])  # rows 1·2 + 1, 1·2 + 0, 0·2 + 1
    (3, 2, 1)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# NOTE: CartPole's cart velocity ẋ and pole angular velocity θ̇ are unbounded (its Box says ±inf),
# so a grid needs bounds chosen by hand. These come from measurement: 300 CartPole-v1 episodes
# each of a uniformly random policy and of a balancing policy that acts at random 30% of the time
# (about 110,000 states). The 0.5th and 99.5th percentiles of ẋ were ±1.4 (random) and ±1.6
# (noisy balancer); of θ̇, ±2.1 and ±0.9. So ẋ is clipped to ±1.5 and θ̇ to ±2.0: the rare states
# beyond share the edge bins, and the bins stay narrow where the agent spends its time. The cart
# position and the pole angle use the episode's termination bounds (|x| > 2.4 or |θ| > 12° =
# 0.2095 rad ends it), so their edge bins are where it is about to fail.
MAX_STATES = 10**8  # table rows; a (S, A) float64 table of 10⁸ rows already takes 800·A MB

CARTPOLE_LOW = (-2.4, -1.5, -0.2095, -2.0)  # x, ẋ, θ, θ̇ lower clipping bounds
CARTPOLE_HIGH = (2.4, 1.5, 0.2095, 2.0)  # x, ẋ, θ, θ̇ upper clipping bounds


class Discretizer:
    """Map an observation x: (D,) to the integer row Σ_d i_d·stride_d of a Q-table, where
    i_d = clip(⌊(x_d − low_d)/(high_d − low_d)·bins_d⌋, 0, bins_d − 1)."""

    def __init__(
        self, low: Sequence[float], high: Sequence[float], bins: int | Sequence[int]
    ):
        self.low = np.asarray(low, dtype=np.float64).ravel()  # (D,)
        self.high = np.asarray(high, dtype=np.float64).ravel()  # (D,)
        if self.low.shape != self.high.shape or self.low.size == 0:
            raise ValueError(f"low and high must have one entry per dimension, got {low} and {high}")
        if np.asarray(bins).dtype.kind not in "iu" or np.ndim(bins) > 1:
            raise ValueError(f"bins must be an int or one int per dimension, got {bins}")
        self.bins = np.broadcast_to(np.asarray(bins), self.low.shape).astype(np.int64)  # (D,)
        if not (np.all(np.isfinite(self.low)) and np.all(np.isfinite(self.high))):
            raise ValueError(f"low and high must be finite clipping bounds, got {low} and {high}")
        if not np.all(self.low < self.high):
            raise ValueError(f"low must be < high in every dimension, got {low} and {high}")
        if not np.all(self.bins >= 1):
            raise ValueError(f"bins must be >= 1 in every dimension, got {bins}")
        self.n_states = math.prod(self.bins.tolist())  # Python ints: exact, where np.prod would wrap around
        if self.n_states > MAX_STATES:
            raise ValueError(f"bins {self.bins.tolist()} make {self.n_states:,} states, more than a table of "
                             f"{MAX_STATES:,} rows; use fewer bins")
        with np.errstate(over="ignore", divide="ignore"):
            self.scale = self.bins / (self.high - self.low)  # (D,) bins per unit of observation
        if not np.all(np.isfinite(self.high - self.low) & np.isfinite(self.scale) & (self.scale > 0)):
            # NOTE: a span that overflows (or a bin width that underflows) would send every
            # observation to a row computed from NaN: refused here, once, not found in the table.
            raise ValueError(f"high − low must be a finite span whose bins have a width float64 can hold, "
                             f"got low {low} and high {high} with bins {self.bins.tolist()}")
        # stride_d = Π_{e>d} bins_e: the last dimension varies fastest, as in np.ravel_multi_index.
        self.strides = np.cumprod(np.r_[self.bins[1:], 1][::-1])[::-1]  # (D,)

    @classmethod
    def for_cartpole(cls, bins: int | Sequence[int] = (1, 6, 8, 10)) -> Discretizer:
        """A grid over CartPole's (x, ẋ, θ, θ̇) within the measured bounds CARTPOLE_LOW/HIGH.

        The default bins ignore the cart position x (one bin) and leave 480 states; with them,
        tabular Q-learning balanced CartPole-v1 for the full 500 steps, greedily, on 3 of 3 seeds
        after 2,000 episodes (docs/tabular.md). (3, 3, 6, 6) and (3, 4, 8, 8) did worse.
        """
        return cls(CARTPOLE_LOW, CARTPOLE_HIGH, bins)

    def bin_indices(self, obs: Sequence[float] | np.ndarray) -> np.ndarray:
        """The per-dimension bin numbers i: (D,), with out-of-range values clipped to the edge bins.
        ValueError for an observation of the wrong size or with NaN (a NaN has no bin; ±inf has
        the edge bin, like any value beyond the bounds)."""
        x = np.asarray(obs, dtype=np.float64)
        if x.shape != self.low.shape:
            raise ValueError(f"the observation must have shape {self.low.shape}, got {x.shape}: {obs!r}")
        if np.isnan(x).any():
            raise ValueError(f"the observation holds NaN, which falls in no bin: {obs!r}")
        i = np.floor((x - self.low) * self.scale)  # (D,)
        return np.clip(i, 0, self.bins - 1).astype(np.int64)

    def __call__(self, obs: Sequence[float] | np.ndarray) -> int:
        """The table row of one observation, an int in [0, n_states)."""
        return int(self.bin_indices(obs) @ self.strides)

    def __repr__(self) -> str:
        return f"Discretizer(low={self.low.tolist()}, high={self.high.tolist()}, bins={self.bins.tolist()})"
