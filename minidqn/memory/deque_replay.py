"""The replay memory in its plainest form, a `collections.deque`: the ring's tested twin.

"Keep the last N transitions, drop the oldest" is exactly what `deque(maxlen=N)` does when it is
appended to, in O(1). That makes the deque the reference to read first and to test against:
`ReplayBuffer` holds the same rows as minidqn.memory.ring.RingReplayBuffer, and draws the same
transitions from the same generator (tests/test_replay.py). The agent runs the ring, because
`deque[i]` walks from the nearer end of a linked list of 64-slot blocks, so a random lookup costs
O(min(i, n − i) / 64) pointer hops and a batch from a full deque takes longer the larger the
memory (docs/benchmarks.md measures it at 10⁴, 10⁵ and 10⁶ transitions).
"""

from __future__ import annotations

import operator
from collections import deque

import numpy as np

from minidqn.memory.ring import (
    Batch,
    Transition,
    check_batch,
    check_capacity,
    check_rows,
    row_fields,
    row_transition,
    transition_row,
)


class ReplayBuffer:
    """The last `capacity` transitions (s, a, r, s′, terminated), oldest evicted first, each one
    row [obs (D) | action | reward | next_obs (D) | terminated] of a `deque(maxlen=capacity)`."""

    def __init__(self, capacity: int, dtype=np.float32):
        self.capacity = check_capacity(capacity)
        self.dtype = np.dtype(dtype)
        self.memory: deque[np.ndarray] = deque(maxlen=self.capacity)  # one (2D + 3,) row per transition
        self.obs_dim: int | None = None  # D, fixed by the first transition pushed

    def __len__(self) -> int:
        return len(self.memory)

    def __getitem__(self, i: int) -> np.ndarray:
        """Transition i as its row (0 the oldest, −1 the newest): buffer[0] prints the oldest."""
        return self.memory[i]

    def transition(self, i: int) -> Transition:
        """Transition i (0 the oldest, −1 the newest) by name: `buffer.transition(-1).reward`."""
        return row_transition(self[i], self.obs_dim)

    def push(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        """Store one transition; a full deque drops its oldest. obs and next_obs: (D,)."""
        if not self.memory:
            self.obs_dim = np.size(obs)
        self.memory.append(transition_row(obs, action, reward, next_obs, terminated, self.obs_dim, self.dtype))

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """B transitions drawn uniformly, with replacement, as the ring draws them: positions are
        the deque's indices (0 the oldest)."""
        check_batch(len(self), batch_size)
        indices = rng.integers(0, len(self), size=batch_size)  # (B,)
        # itemgetter does the B lookups in one C call; alone, itemgetter(i) returns one row, not a tuple.
        picked = operator.itemgetter(*indices.tolist())(self.memory) if batch_size > 1 else (self.memory[indices[0]],)
        return Batch(*row_fields(np.array(picked), self.obs_dim), indices)  # (B, 2D + 3) -> its fields

    def rows(self) -> np.ndarray:
        """Every stored transition as one (n, 2D + 3) array of rows, oldest first (a copy)."""
        if not self.memory:
            return np.zeros((0, 0 if self.obs_dim is None else 2 * self.obs_dim + 3), self.dtype)
        return np.array(self.memory)

    def largest_action(self) -> int:
        """The largest action stored (0 while empty)."""
        return int(max(row[self.obs_dim] for row in self.memory)) if self.memory else 0

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """D as plain metadata (None while empty) and the memory as {"rows": (n, 2D + 3)}, oldest first."""
        return {"obs_dim": self.obs_dim}, {"rows": self.rows()}

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Replace the memory by a `state()` of a buffer with the same dtype: n ≤ capacity rows."""
        rows, D = arrays["rows"], meta["obs_dim"]
        check_rows(rows, D, self.dtype, self.capacity)
        self.obs_dim = D
        self.memory.clear()
        self.memory.extend(rows.copy())  # one row each: views of one copy, not of the caller's array
