"""Experience replay: a fixed-size memory of transitions, sampled uniformly in random mini-batches.

Replay breaks the correlation between consecutive transitions (a batch mixes many episodes and
many versions of the policy) and lets each transition be learned from many times (Lin, 1992;
Mnih et al., 2015). Learning from old transitions is legitimate because Q-learning is
off-policy: its target r + γ·maxₐ′ Q(s′, a′) asks what the *greedy* policy would do after s′,
whatever policy chose a in s, so a transition stays valid evidence however long ago, and by
whichever version of the agent, it was collected.
"""

from __future__ import annotations

import operator
from collections import deque
from typing import NamedTuple

import numpy as np


class Transition(NamedTuple):
    """One stored step by name: in state `obs` the agent took `action`, was paid `reward` and saw
    `next_obs`; `terminated` says whether the task ended there (never a time limit)."""

    obs: np.ndarray  # s: (D,)
    action: int  # a
    reward: float  # r (with n-step returns, the discounted sum of the n rewards)
    next_obs: np.ndarray  # s′: (D,) (with n-step returns, the state n steps later)
    terminated: bool


class ReplayBuffer:
    """The last `capacity` transitions (s, a, r, s′, terminated), oldest evicted first.

    Storage is a `collections.deque(maxlen=capacity)`: appending to a full deque drops the oldest
    transition, which is exactly the eviction rule we want, in O(1).

    Each transition is one row of 2D + 3 numbers (D = observation size), in the buffer's dtype:

        [ obs (D) | action | reward | next_obs (D) | terminated ]

    so `buffer[0]` prints the oldest transition's numbers in that order, and a batch is one
    `np.array` over B rows, sliced into its five fields. Actions are stored as floats, exact for
    any integer below 2²⁴ (far more actions than an MLP head will have); `terminated` is 1.0 or 0.0.

    `deque[i]` walks from the nearer end of a linked list of 64-slot blocks, so a random lookup
    costs O(min(i, n − i) / 64) pointer hops; `operator.itemgetter` does the B lookups in one C
    call (docs/benchmarks.md measures sampling at several fill levels).
    """

    def __init__(self, capacity: int, dtype=np.float32):
        if not (isinstance(capacity, (int, np.integer)) and capacity >= 1):
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        self.capacity = int(capacity)
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
        obs, action, reward, next_obs, terminated = self._fields(self[i][None])  # each field of one row
        return Transition(obs[0], int(action[0]), float(reward[0]), next_obs[0], bool(terminated[0]))

    def push(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        """Store one transition. obs and next_obs: (D,); `terminated` is the environment's own
        end of the episode, never a time-limit truncation (see DQNAgent.train)."""
        self.memory.append(self._row(obs, action, reward, next_obs, terminated))

    def _row(self, obs, action: int, reward: float, next_obs, terminated: bool) -> np.ndarray:
        """The transition as one row [obs | action | reward | next_obs | terminated]: (2D + 3,)."""
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
        return row

    def sample(self, batch_size: int, rng: np.random.Generator):
        """A uniform random mini-batch, drawn with replacement:

            obs: (B, D), actions: (B,) int64, rewards: (B,), next_obs: (B, D),
            terminated: (B,) 1.0 where the episode truly ended, else 0.0

        all floats in the buffer's dtype, views of one fresh (B, 2D + 3) array.
        """
        indices = self._draw(batch_size, rng).tolist()  # Python ints index a deque fastest
        # itemgetter(i) alone returns one row, not a tuple of one: hence the B = 1 case.
        picked = operator.itemgetter(*indices)(self.memory) if batch_size > 1 else (self.memory[indices[0]],)
        return self._fields(np.array(picked))  # (B, 2D+3) -> five arrays

    def _draw(self, batch_size: int, rng: np.random.Generator) -> np.ndarray:
        """B uniform indices into the transitions, 0 the oldest: (B,)."""
        self._check_sample(batch_size)
        return rng.integers(0, len(self), size=batch_size)

    def _check_sample(self, batch_size: int) -> None:
        if len(self) == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")

    def _fields(self, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        """(obs, actions, rewards, next_obs, terminated) of rows (B, 2D + 3), as views."""
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
        return np.array(self.memory)

    def largest_action(self) -> int:
        """The largest action stored (0 while empty), for a loaded agent's check."""
        return int(max(row[self.obs_dim] for row in self.memory)) if self.memory else 0

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
        self._append(rows)

    def _append(self, rows: np.ndarray) -> None:
        self.memory.extend(row.copy() for row in rows)

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """D as plain metadata (None while empty) and the memory as {"rows": (n, 2D + 3)}."""
        return {"obs_dim": self.obs_dim}, {"rows": self.rows()}

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Replace the memory by a `state()` of a buffer with the same dtype: n ≤ capacity rows."""
        rows, D = arrays["rows"], meta["obs_dim"]
        if D is not None and not (isinstance(D, int) and D >= 1):
            raise ValueError(f"obs_dim must be a positive integer or None, got {D!r}")
        shape = (len(rows), 2 * D + 3) if D is not None else (0, 0)
        if rows.dtype != self.dtype or rows.shape != shape or (D is not None and len(rows) == 0):
            raise ValueError(f"rows must be {self.dtype} (n ≥ 1, 2D + 3) with D = obs_dim = {D!r}, or (0, 0) "
                             f"with obs_dim None; got {rows.dtype} {rows.shape}")
        if len(rows) > self.capacity:
            raise ValueError(f"rows hold {len(rows)} transitions, more than the capacity {self.capacity}")
        if D is not None:  # the columns that are not free numbers: action a ∈ {0, 1, ...}, terminated ∈ {0, 1}
            actions, terminated = rows[:, D], rows[:, 2 * D + 2]
            if not (np.all(actions >= 0) and np.all(actions == np.round(actions))):
                raise ValueError("the action column must hold whole numbers ≥ 0")
            if not np.all((terminated == 0) | (terminated == 1)):
                raise ValueError("the terminated column must hold 0 or 1")
        self.obs_dim = D
        self._replace(rows)

    def _replace(self, rows: np.ndarray) -> None:
        self.memory.clear()
        self.memory.extend(rows.copy())  # one row each: views of one copy, not of the caller's array


class RingReplayBuffer(ReplayBuffer):
    """The same memory as ReplayBuffer, kept in one preallocated (capacity, 2D + 3) array used as
    a ring: the agent's replay, because sampling it costs the same at any size.

    `deque[i]` walks the deque's blocks, so a batch of 64 from a full deque takes longer the
    larger the buffer (docs/benchmarks.md measures it at 10⁴, 10⁵ and 10⁶ transitions); here a
    batch is one fancy index into the array. `next` is the row the next transition overwrites,
    and the deque's entry i (0 the oldest) is row (oldest + i) mod capacity, with oldest =
    (next − n) mod capacity. `sample` draws the same indices from the same generator as
    ReplayBuffer's, so the two buffers return the same transitions (tests/test_replay.py).
    """

    def __init__(self, capacity: int, dtype=np.float32):
        super().__init__(capacity, dtype)
        del self.memory  # the ring replaces the deque
        self.storage: np.ndarray | None = None  # (capacity, 2D + 3), allocated at the first push
        self.next, self.size = 0, 0

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> np.ndarray:
        if not -self.size <= i < self.size:
            raise IndexError(f"transition {i} of a buffer holding {self.size}")
        return self._gather(self.positions(i % self.size))

    def push(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        self._append(self._row(obs, action, reward, next_obs, terminated)[None])

    def positions(self, indices: np.ndarray) -> np.ndarray:
        """The storage rows of transitions `indices` (0 the oldest): (B,)."""
        return (self.next - self.size + indices) % self.capacity

    def sample(self, batch_size: int, rng: np.random.Generator):
        """As ReplayBuffer.sample: the same five arrays, for the same draws of `rng`."""
        return self._fields(self._gather(self.positions(self._draw(batch_size, rng))))

    def rows(self) -> np.ndarray:
        if self.size == 0:
            return np.zeros((0, 0 if self.obs_dim is None else 2 * self.obs_dim + 3), self.dtype)
        return self._gather(self.positions(np.arange(self.size)))

    def largest_action(self) -> int:
        return int(self._gather(slice(0, self.size))[:, self.obs_dim].max()) if self.size else 0

    # The three places that touch the storage array; minidqn.memory.compact stores the same rows
    # in another layout by redefining them.
    def _allocate(self, width: int) -> None:
        """Room for `capacity` rows of `width` = 2D + 3 numbers."""
        self.storage = np.zeros((self.capacity, width), self.dtype)

    def _gather(self, positions) -> np.ndarray:
        """The rows at storage `positions` (an index array or a slice): (B, 2D + 3), a copy."""
        return self.storage[positions]

    def _write(self, positions, rows: np.ndarray) -> None:
        """Store `rows` (B, 2D + 3) at storage `positions`."""
        self.storage[positions] = rows

    def _append(self, rows: np.ndarray) -> None:
        if self.size == 0 and self.next == 0 and len(rows):
            self._allocate(rows.shape[1])
        for row in rows:  # one at a time: the ring may wrap around in the middle
            self._write(self.next, row[None])
            self.next = (self.next + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)

    def _replace(self, rows: np.ndarray) -> None:
        self.storage, self.next, self.size = None, 0, 0
        if len(rows):
            self._allocate(rows.shape[1])
            self._write(slice(0, len(rows)), rows)  # oldest first, from row 0
            self.next, self.size = len(rows) % self.capacity, len(rows)
