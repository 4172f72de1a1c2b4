"""Replay for observations of small whole numbers (MinAtar's booleans, Atari's pixels), one byte each.

A MinAtar observation is 10×10×C booleans; as float32 rows, 100,000 transitions of Breakout
(D = 400, rows of 2D + 3 numbers) take 321 MB. Stored as uint8, the observations take a quarter
of that, and a sampled batch is converted to the agent's dtype, B rows at a time.
"""

from __future__ import annotations

import numpy as np

from minidqn.memory.ring import RingReplayBuffer, check_actions_and_ends


class CompactReplayBuffer(RingReplayBuffer):
    """RingReplayBuffer's memory and sampling, with obs and next_obs stored as uint8.

    The same transitions as RingReplayBuffer, drawn by the same generator calls: `sample`, `rows`
    and `buffer[i]` return the same (2D + 3)-number rows [obs | action | reward | next_obs |
    terminated] in the buffer's dtype. Only the layout differs:

        observations: (capacity, 2D) uint8    [obs | next_obs] of each transition
        scalars:      (capacity, 3)  dtype    [action | reward | terminated]

    so it holds only observations whose every number is a whole number in [0, 255]; any other
    raises a ValueError when it is pushed, since uint8 would change it.
    """

    def _allocate(self, width: int) -> None:
        D = (width - 3) // 2
        self.storage = None  # the two arrays below replace the ring's one
        self.observations = np.zeros((self.capacity, 2 * D), np.uint8)  # [obs | next_obs]
        self.scalars = np.zeros((self.capacity, 3), self.dtype)  # [action | reward | terminated]

    def _gather(self, positions: np.ndarray) -> np.ndarray:
        D = self.obs_dim
        observations, scalars = self.observations[positions], self.scalars[positions]  # (B, 2D), (B, 3)
        rows = np.empty((len(scalars), 2 * D + 3), self.dtype)  # the ring's row layout
        rows[:, :D] = observations[:, :D]  # obs, uint8 -> dtype
        rows[:, D : D + 2] = scalars[:, :2]  # action, reward
        rows[:, D + 2 : 2 * D + 2] = observations[:, D:]  # next_obs
        rows[:, 2 * D + 2] = scalars[:, 2]  # terminated
        return rows

    def _write(self, positions: np.ndarray | int, rows: np.ndarray) -> None:
        D = self.obs_dim
        observations = np.concatenate([rows[:, :D], rows[:, D + 2 : 2 * D + 2]], axis=1)  # (B, 2D)
        as_bytes = observations.astype(np.uint8)
        if not np.array_equal(as_bytes, observations):
            bad = observations[as_bytes != observations][0]
            raise ValueError(f"CompactReplayBuffer stores observations as uint8, whole numbers in [0, 255]; got "
                             f"{bad:g}. Set DQNConfig.compact_observations=False for other observations")
        self.observations[positions] = as_bytes
        self.scalars[positions] = rows[:, [D, D + 1, 2 * D + 2]]

    def largest_action(self) -> int:
        return int(self.scalars[: self.size, 0].max()) if self.size else 0

    def nbytes(self) -> int:
        """The memory the stored transitions hold, in bytes (0 before the first push)."""
        return 0 if self.size == 0 and self.next == 0 else self.observations.nbytes + self.scalars.nbytes

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """D as plain metadata (None while empty), and the transitions oldest first in their
        compact layout: {"observations": (n, 2D) uint8, "scalars": (n, 3)}."""
        if self.size == 0:
            return {"obs_dim": self.obs_dim}, {"observations": np.zeros((0, 0), np.uint8),
                                               "scalars": np.zeros((0, 3), self.dtype)}
        order = self.positions(np.arange(self.size))
        return {"obs_dim": self.obs_dim}, {"observations": self.observations[order], "scalars": self.scalars[order]}

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Replace the memory by a `state()` of a CompactReplayBuffer with the same dtype: n ≤
        capacity transitions, whole actions ≥ 0, terminated 0 or 1 (as RingReplayBuffer checks)."""
        observations, scalars, D = arrays["observations"], arrays["scalars"], meta["obs_dim"]
        if D is not None and not (isinstance(D, int) and D >= 1):
            raise ValueError(f"obs_dim must be a positive integer or None, got {D!r}")
        n = len(scalars)
        expected = ((n, 2 * D), (n, 3)) if D is not None else ((0, 0), (0, 3))
        if (observations.dtype != np.uint8 or scalars.dtype != self.dtype or
                (observations.shape, scalars.shape) != expected or (D is not None and n == 0)):
            raise ValueError(f"observations must be uint8 (n ≥ 1, 2D) and scalars {self.dtype} (n, 3) with D = "
                             f"obs_dim = {D!r}, or empty with obs_dim None; got {observations.dtype} "
                             f"{observations.shape} and {scalars.dtype} {scalars.shape}")
        if n > self.capacity:
            raise ValueError(f"the file holds {n} transitions, more than the capacity {self.capacity}")
        check_actions_and_ends(scalars[:, 0], scalars[:, 2])
        self.obs_dim, self.storage, self.next, self.size = D, None, 0, 0
        if n:
            self._allocate(2 * D + 3)
            self.observations[:n], self.scalars[:n] = observations, scalars  # oldest first, from row 0
            self.next, self.size = n % self.capacity, n
