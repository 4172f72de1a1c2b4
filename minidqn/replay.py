"""Experience replay: a fixed-size memory of transitions, sampled uniformly in random mini-batches.

Replay breaks the correlation between consecutive transitions (a batch mixes many episodes and
many versions of the policy) and lets each transition be learned from many times (Lin, 1992;
Mnih et al., 2015).
"""

from __future__ import annotations

import operator
from collections import deque

import numpy as np


class ReplayBuffer:
    """The last `capacity` transitions (s, a, r, s′, terminated), oldest evicted first.

    Storage is a `collections.deque(maxlen=capacity)`: appending to a full deque drops the oldest
    transition, which is exactly the eviction rule we want, in O(1).

    Each transition is stored as one flat row of length 2D + 3 (D = observation size):

        [ obs (D) | action | reward | next_obs (D) | terminated ]

    kept as the row's raw bytes (`row.tobytes()`, 4(2D + 3) bytes in float32). A batch is then
    one `bytes.join` of B rows and one `np.frombuffer` that reads them as a (B, 2D + 3) array,
    sliced into five arrays without copying. `rows()` decodes the whole memory the same way.
    Measured on this project's machine for B = 64, D = 4: 1 µs, against 7 µs for `np.array`
    over 64 small row arrays and 55 µs for converting 64 five-tuples field by field, and sampling
    runs once per gradient step. Actions are stored as floats, exact for any integer below 2²⁴
    (far more actions than an MLP head will have).

    Cost of `deque[i]`: a deque is a linked list of 64-slot blocks, and indexing walks from the
    nearer end, so it costs O(min(i, n − i) / 64) pointer hops. Measured for a batch of 64:
    2–5 µs in a deque of 5,000 transitions, 14–18 µs at 25,000 and 59 µs when full at 100,000,
    against under 1 µs for a preallocated NumPy ring buffer. That is acceptable here: a CartPole
    run of 50,000 steps never fills more than half a 100,000 buffer, and the deque keeps the data
    structure the algorithm describes. `operator.itemgetter` does the B lookups in one C call.
    """

    def __init__(self, capacity: int, dtype=np.float32):
        if not (isinstance(capacity, (int, np.integer)) and capacity >= 1):
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        self.capacity = int(capacity)
        self.dtype = np.dtype(dtype)
        self.memory: deque[bytes] = deque(maxlen=self.capacity)  # one row's bytes per transition
        self.obs_dim: int | None = None  # D, fixed by the first transition pushed

    def __len__(self) -> int:
        return len(self.memory)

    def push(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        """Store one transition. obs and next_obs: (D,); `terminated` is the environment's own
        end of the episode, never a time-limit truncation (see DQNAgent.train)."""
        obs, next_obs = np.ravel(obs), np.ravel(next_obs)
        if self.obs_dim is None:
            self.obs_dim = obs.size
        D = self.obs_dim
        if obs.size != D or next_obs.size != D:
            raise ValueError(f"obs and next_obs must have {D} elements, got {obs.size} and {next_obs.size}")
        row = np.empty(2 * D + 3, self.dtype)  # [obs | action | reward | next_obs | terminated]
        row[:D] = obs
        row[D] = action
        row[D + 1] = reward
        row[D + 2 : 2 * D + 2] = next_obs
        row[2 * D + 2] = terminated
        self.memory.append(row.tobytes())

    def sample(self, batch_size: int, rng: np.random.Generator):
        """A uniform random mini-batch, drawn with replacement:

            obs: (B, D), actions: (B,) int64, rewards: (B,), next_obs: (B, D),
            terminated: (B,) 1.0 where the episode truly ended, else 0.0

        all floats in the buffer's dtype. The arrays are read-only views of one fresh (B, 2D + 3)
        array (the TD target and the loss only read them).
        """
        n = len(self.memory)
        if n == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        indices = rng.integers(0, n, size=batch_size).tolist()  # Python ints index a deque fastest
        # itemgetter(i) alone returns one row, not a tuple of one: hence the B = 1 case.
        picked = operator.itemgetter(*indices)(self.memory) if batch_size > 1 else (self.memory[indices[0]],)
        rows = self._decode(picked)  # (B, 2D+3)
        D = self.obs_dim
        return (
            rows[:, :D],
            rows[:, D].astype(np.int64),
            rows[:, D + 1],
            rows[:, D + 2 : 2 * D + 2],
            rows[:, 2 * D + 2],
        )

    def rows(self) -> np.ndarray:
        """Every stored transition as one (n, 2D + 3) array of rows, oldest first (a copy)."""
        if not self.memory:
            return np.zeros((0, 0 if self.obs_dim is None else 2 * self.obs_dim + 3), self.dtype)
        return self._decode(self.memory).copy()

    def extend(self, rows: np.ndarray) -> None:
        """Append the rows of an (n, 2D + 3) array, oldest first, as `rows()` returns them."""
        rows = np.asarray(rows, self.dtype)
        if rows.ndim != 2 or rows.shape[1] < 5 or rows.shape[1] % 2 == 0:
            raise ValueError(f"rows must be (n, 2D + 3) with D ≥ 1, got shape {rows.shape}")
        D = (rows.shape[1] - 3) // 2
        if self.obs_dim is not None and D != self.obs_dim:
            raise ValueError(f"rows must have {2 * self.obs_dim + 3} columns, got {rows.shape[1]}")
        if len(rows):
            self.obs_dim = D
        self.memory.extend(row.tobytes() for row in rows)

    def _decode(self, picked) -> np.ndarray:
        """Rows stored as bytes -> one read-only (len(picked), 2D + 3) array."""
        return np.frombuffer(b"".join(picked), self.dtype).reshape(-1, 2 * self.obs_dim + 3)
