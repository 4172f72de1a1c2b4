"""Prioritized replay: the ring's transitions, drawn by the size of their last TD error.

Uniform replay (minidqn.memory.ring) draws every stored transition alike; prioritized replay (Schaul
et al., 2016) draws more often those the network predicts worst, and corrects the bias this
brings with importance weights. The priorities live in a sum tree (minidqn.memory.sum_tree), so a draw
and an update cost O(log N).
"""

from __future__ import annotations

import numpy as np

from minidqn.common.validation import is_real
from minidqn.memory.ring import Batch, RingReplayBuffer, check_batch, row_fields
from minidqn.memory.sum_tree import SumTree


class PrioritizedReplayBuffer(RingReplayBuffer):
    """Proportional prioritized replay (Schaul et al., 2016): transition i is drawn with

        P(i) = pᵢ^α / Σₖ pₖ^α,    pᵢ = |δᵢ| + eps   (δᵢ its last TD error)

    so transitions the network predicts badly are replayed more often; α = 0 is uniform replay.
    A new transition gets the largest priority seen so far, so it is replayed at least once soon.
    Drawing by priority changes the distribution the loss averages over, which biases the
    update; each drawn transition is weighted by wᵢ = (N·P(i))^(−β), normalised by the batch's
    largest w, and β is annealed to 1, where the bias is fully corrected, by the end of training.

    The priorities pᵢ^α live in a SumTree whose leaf k is storage row k of the ring. That is why
    prioritized replay needs the ring, not the deque: a transition must keep its index from
    `sample` to `update_priorities`, and a deque shifts every index when it drops its oldest.
    """

    def __init__(self, capacity: int, alpha: float = 0.6, eps: float = 1e-6, dtype=np.float32):
        super().__init__(capacity, dtype)
        if not (is_real(alpha) and 0.0 <= alpha <= 1.0):
            raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
        if not (is_real(eps) and eps > 0):
            raise ValueError(f"eps must be a finite number > 0, got {eps!r}")
        self.alpha, self.eps = float(alpha), float(eps)
        self.priorities = np.zeros(self.capacity)  # pₖ of storage row k
        self.tree = SumTree(self.capacity)  # leaf k: pₖ^α (0 while row k is empty)
        self.max_priority = 1.0  # the largest p so far: what a new transition gets

    def push(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        """Store one transition as the ring does, with the largest priority so far, so that it is
        replayed at least once soon."""
        position = self.next  # the storage row it takes
        super().push(obs, action, reward, next_obs, terminated)
        self._set(np.array([position]), np.array([self.max_priority]))

    def _set(self, positions: np.ndarray, priorities: np.ndarray) -> None:
        """pₖ ← priorities at storage rows `positions`, and pₖ^α in the sum tree."""
        self.priorities[positions] = priorities
        self.tree.set(positions, priorities**self.alpha)

    def sample(self, batch_size: int, rng: np.random.Generator, beta: float = 1.0) -> Batch:
        """B transitions drawn with probability P(i), as a Batch whose positions are their storage
        rows (for update_priorities) and whose weights are wᵢ = (N·P(i))^(−β) / maxⱼ wⱼ: (B,) in
        the buffer's dtype."""
        check_batch(len(self), batch_size)
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1], got {beta!r}")
        positions = self.tree.find(rng.random(batch_size) * self.tree.total)  # (B,) storage rows
        probabilities = self.tree.get(positions) / self.tree.total  # P(i): (B,)
        weights = (self.size * probabilities) ** -beta
        fields = row_fields(self._gather(positions), self.obs_dim)
        return Batch(*fields, positions, (weights / weights.max()).astype(self.dtype))

    def update_priorities(self, positions: np.ndarray, td_errors: np.ndarray) -> None:
        """pᵢ ← |δᵢ| + eps for the transitions at storage rows `positions` (a Batch's positions)."""
        priorities = np.abs(np.asarray(td_errors, dtype=np.float64)) + self.eps
        positions = np.asarray(positions)
        # NOTE: every check before any change, so a refused update leaves every priority as it was.
        if priorities.shape != positions.shape or not np.all(np.isfinite(priorities)):
            raise ValueError(f"td_errors must be {positions.shape} finite numbers, one per position; got "
                             f"{np.asarray(td_errors).tolist()}")
        if positions.dtype.kind not in "iu" or np.any(positions < 0) or np.any(positions >= self.capacity):
            raise ValueError(f"positions must be storage rows in 0 … {self.capacity - 1}, got {positions.tolist()}")
        self._set(positions, priorities)
        self.max_priority = max(self.max_priority, float(priorities.max()))

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """As the ring's, plus each transition's priority p (oldest first), the largest, and the
        ring's `next` row: the tree's layout decides which transition a draw finds."""
        meta, arrays = super().state()
        priorities = self.priorities[self.positions(np.arange(self.size))]
        return ({**meta, "max_priority": self.max_priority, "next": self.next},
                {**arrays, "priorities": priorities})

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Replace the memory and its priorities by a `state()`, laid out in storage as they were
        saved; nothing changes unless all of it is valid."""
        priorities, top, next_row, n = arrays["priorities"], meta["max_priority"], meta["next"], len(arrays["rows"])
        if not (isinstance(next_row, int) and 0 <= next_row < self.capacity and (n == self.capacity or next_row == n)):
            raise ValueError(f"next must be the ring's next row, got {next_row!r}")
        if priorities.shape != (n,) or not np.all(priorities > 0):
            raise ValueError(f"priorities must be {n} numbers > 0, got shape {priorities.shape}")
        if not (isinstance(top, float) and top >= priorities.max(initial=0.0)):
            raise ValueError(f"max_priority must be a number ≥ every priority, got {top!r}")
        super().load_state(meta, arrays)  # the rows oldest first, from storage row 0
        if self.size == self.capacity:  # the saved layout: transition i (oldest first) at row (next + i) mod N
            every_row = np.arange(self.capacity)
            self._write(every_row, np.roll(self._gather(every_row), next_row, axis=0))
            self.next = next_row
        self.priorities[:], self.tree = 0.0, SumTree(self.capacity)
        self._set(self.positions(np.arange(self.size)), priorities)
        self.max_priority = top
