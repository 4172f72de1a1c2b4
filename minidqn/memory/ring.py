"""Experience replay: a fixed-size memory of transitions, sampled uniformly in random mini-batches.

Replay breaks the correlation between consecutive transitions (a batch mixes many episodes and
many versions of the policy) and lets each transition be learned from many times (Lin, 1992;
Mnih et al., 2015). Learning from old transitions is legitimate because Q-learning is
off-policy: its target r + γ·maxₐ′ Q(s′, a′) asks what the *greedy* policy would do after s′,
whatever policy chose a in s, so a transition stays valid evidence however long ago, and by
whichever version of the agent, it was collected.

The agent's memory is `RingReplayBuffer`: one preallocated array used as a ring.
minidqn.memory.deque_replay holds the same memory in a `collections.deque`, the plainest form of
"the last N transitions", as its tested twin.
"""

from __future__ import annotations

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


class Batch(NamedTuple):
    """B transitions drawn from replay, field by field, in the buffer's dtype (actions int64)."""

    obs: np.ndarray  # s: (B, D)
    actions: np.ndarray  # a: (B,) int64
    rewards: np.ndarray  # r: (B,)
    next_obs: np.ndarray  # s′: (B, D)
    terminated: np.ndarray  # (B,) 1.0 where the episode truly ended, else 0.0
    positions: np.ndarray  # (B,) where each transition is stored: what prioritized replay updates
    weights: np.ndarray | None = None  # (B,) importance weights wᵢ of prioritized replay; None when uniform


# --- one transition as one row of numbers --------------------------------------------------------
def transition_row(obs, action: int, reward: float, next_obs, terminated: bool, D: int, dtype) -> np.ndarray:
    """The transition as one row [obs | action | reward | next_obs | terminated]: (2D + 3,).

    Actions are stored as floats, exact for any integer below 2²⁴ (far more actions than an MLP
    head will have); `terminated` is 1.0 or 0.0."""
    obs, next_obs = np.ravel(obs), np.ravel(next_obs)
    if obs.dtype.kind not in "biuf" or next_obs.dtype.kind not in "biuf":  # complex would lose its imaginary part
        raise ValueError(f"obs and next_obs must hold real numbers, got {obs.dtype} and {next_obs.dtype}")
    if obs.size != D or next_obs.size != D:
        raise ValueError(f"obs and next_obs must have {D} elements, got {obs.size} and {next_obs.size}")
    row = np.empty(2 * D + 3, dtype)  # [obs | action | reward | next_obs | terminated]
    row[:D] = obs
    row[D] = action
    row[D + 1] = reward
    row[D + 2 : 2 * D + 2] = next_obs
    row[2 * D + 2] = terminated
    return row


def row_fields(rows: np.ndarray, D: int) -> tuple[np.ndarray, ...]:
    """(obs, actions, rewards, next_obs, terminated) of rows (B, 2D + 3), as views (actions a copy)."""
    return rows[:, :D], rows[:, D].astype(np.int64), rows[:, D + 1], rows[:, D + 2 : 2 * D + 2], rows[:, 2 * D + 2]


def row_transition(row: np.ndarray, D: int) -> Transition:
    """One row (2D + 3,) read back by name."""
    obs, action, reward, next_obs, terminated = row_fields(row[None], D)
    return Transition(obs[0], int(action[0]), float(reward[0]), next_obs[0], bool(terminated[0]))


def check_rows(rows: np.ndarray, D: int | None, dtype: np.dtype, capacity: int) -> None:
    """ValueError unless `rows` are what a buffer's `state()` holds: n ≤ capacity rows (n ≥ 1, 2D + 3)
    in `dtype` with whole actions ≥ 0 and terminated 0 or 1, or (0, 0) with D None."""
    if D is not None and not (isinstance(D, int) and D >= 1):
        raise ValueError(f"obs_dim must be a positive integer or None, got {D!r}")
    shape = (len(rows), 2 * D + 3) if D is not None else (0, 0)
    if rows.dtype != dtype or rows.shape != shape or (D is not None and len(rows) == 0):
        raise ValueError(f"rows must be {dtype} (n ≥ 1, 2D + 3) with D = obs_dim = {D!r}, or (0, 0) "
                         f"with obs_dim None; got {rows.dtype} {rows.shape}")
    if len(rows) > capacity:
        raise ValueError(f"rows hold {len(rows)} transitions, more than the capacity {capacity}")
    if D is not None:
        check_actions_and_ends(rows[:, D], rows[:, 2 * D + 2])


def check_actions_and_ends(actions: np.ndarray, terminated: np.ndarray) -> None:
    """ValueError unless the columns that are not free numbers hold a ∈ {0, 1, ...} and terminated ∈ {0, 1}."""
    if not (np.all(actions >= 0) and np.all(actions == np.round(actions))):
        raise ValueError("the action column must hold whole numbers ≥ 0")
    if not np.all((terminated == 0) | (terminated == 1)):
        raise ValueError("the terminated column must hold 0 or 1")


def check_batch(size: int, batch_size: int) -> None:
    """ValueError unless a memory of `size` transitions can give a batch of `batch_size`."""
    if size == 0:
        raise ValueError("cannot sample from an empty replay buffer")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")


def check_capacity(capacity) -> int:
    if not (isinstance(capacity, (int, np.integer)) and capacity >= 1):
        raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
    return int(capacity)


class RingReplayBuffer:
    """The last `capacity` transitions (s, a, r, s′, terminated), oldest overwritten first, kept in
    one preallocated (capacity, 2D + 3) array used as a ring; D is the observation size.

    Each transition is one row [obs (D) | action | reward | next_obs (D) | terminated], so
    `buffer[0]` prints the oldest transition's numbers in that order and a batch is one fancy
    index into the array, sliced into its fields: the same cost at any size. `next` is the row
    the next transition overwrites, and transition i (0 the oldest) is at row
    (next − n + i) mod capacity. `sample` draws the same indices from the same generator as the
    deque twin (minidqn.memory.deque_replay), so both return the same transitions
    (tests/test_replay.py).
    """

    def __init__(self, capacity: int, dtype=np.float32):
        self.capacity = check_capacity(capacity)
        self.dtype = np.dtype(dtype)
        self.obs_dim: int | None = None  # D, fixed by the first transition pushed
        self.storage: np.ndarray | None = None  # (capacity, 2D + 3), allocated at the first push
        self.next, self.size = 0, 0

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i: int) -> np.ndarray:
        """Transition i as its row (0 the oldest, −1 the newest): buffer[0] prints the oldest."""
        if not -self.size <= i < self.size:
            raise IndexError(f"transition {i} of a buffer holding {self.size}")
        return self._gather(self.positions(np.array([i % self.size])))[0]

    def transition(self, i: int) -> Transition:
        """Transition i (0 the oldest, −1 the newest) by name: `buffer.transition(-1).reward`."""
        return row_transition(self[i], self.obs_dim)

    def push(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        """Store one transition over the oldest once full. obs and next_obs: (D,); `terminated` is
        the environment's own end of the episode, never a time-limit truncation (see DQNAgent.train)."""
        if self.size == 0:  # the first transition fixes D and the storage
            self.obs_dim = np.size(obs)
            self._allocate(2 * self.obs_dim + 3)
        row = transition_row(obs, action, reward, next_obs, terminated, self.obs_dim, self.dtype)
        self._write(self.next, row[None])  # one row (1, 2D + 3) at storage row `next`
        self.next = (self.next + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def positions(self, indices: np.ndarray) -> np.ndarray:
        """The storage rows of transitions `indices` (0 the oldest): (B,)."""
        return (self.next - self.size + indices) % self.capacity

    def sample(self, batch_size: int, rng: np.random.Generator) -> Batch:
        """B transitions drawn uniformly, with replacement: a Batch of fresh arrays (weights None)."""
        check_batch(len(self), batch_size)
        positions = self.positions(rng.integers(0, self.size, size=batch_size))  # (B,)
        return Batch(*row_fields(self._gather(positions), self.obs_dim), positions)

    def rows(self) -> np.ndarray:
        """Every stored transition as one (n, 2D + 3) array of rows, oldest first (a copy)."""
        if self.size == 0:
            return np.zeros((0, 0 if self.obs_dim is None else 2 * self.obs_dim + 3), self.dtype)
        return self._gather(self.positions(np.arange(self.size)))

    def largest_action(self) -> int:
        """The largest action stored (0 while empty), for a loaded agent's check."""
        return int(self._gather(np.arange(self.size))[:, self.obs_dim].max()) if self.size else 0

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """D as plain metadata (None while empty) and the memory as {"rows": (n, 2D + 3)}, oldest first."""
        return {"obs_dim": self.obs_dim}, {"rows": self.rows()}

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Replace the memory by a `state()` of a buffer with the same dtype: n ≤ capacity rows,
        stored oldest first from row 0."""
        rows, D = arrays["rows"], meta["obs_dim"]
        check_rows(rows, D, self.dtype, self.capacity)
        self.obs_dim, self.storage, self.next, self.size = D, None, 0, 0
        if len(rows):
            self._allocate(rows.shape[1])
            self._write(np.arange(len(rows)), rows)
            self.next, self.size = len(rows) % self.capacity, len(rows)

    # The three places that touch the storage array; minidqn.memory.compact stores the same rows
    # in another layout by redefining them.
    def _allocate(self, width: int) -> None:
        """Room for `capacity` rows of `width` = 2D + 3 numbers."""
        self.storage = np.zeros((self.capacity, width), self.dtype)

    def _gather(self, positions: np.ndarray) -> np.ndarray:
        """The rows at storage `positions` (B,): (B, 2D + 3), a copy."""
        return self.storage[positions]

    def _write(self, positions: np.ndarray | int, rows: np.ndarray) -> None:
        """Store `rows` (B, 2D + 3) at storage `positions` (B,), or one row (1, 2D + 3) at one position."""
        self.storage[positions] = rows
