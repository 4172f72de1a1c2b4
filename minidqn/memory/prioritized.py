"""Prioritized replay: the ring's transitions, drawn by the size of their last TD error.

Uniform replay (minidqn.memory.ring) draws every stored transition alike; prioritized replay (Schaul
et al., 2016) draws more often those the network predicts worst, and corrects the bias this
brings with importance weights. The priorities live in a sum tree (minidqn.memory.sum_tree), so a draw
and an update cost O(log N).
"""

from __future__ import annotations

import numpy as np

from minidqn.memory.ring import RingReplayBuffer
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
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}")
        self.alpha, self.eps = float(alpha), float(eps)
        self.priorities = np.zeros(self.capacity)  # pₖ of storage row k
        self.tree = SumTree(self.capacity)  # leaf k: pₖ^α (0 while row k is empty)
        self.max_priority = 1.0  # the largest p so far: what a new transition gets

    def _append(self, rows: np.ndarray) -> None:
        for row in rows:  # each new row gets the largest priority so far
            position = self.next
            super()._append(row[None])
            self._set([position], np.array([self.max_priority]))

    def _set(self, positions, priorities: np.ndarray) -> None:
        self.priorities[positions] = priorities
        self.tree.set(positions, priorities**self.alpha)

    def _replace(self, rows: np.ndarray) -> None:
        super()._replace(rows)
        self.priorities[:], self.tree = 0.0, SumTree(self.capacity)
        self._set(self.positions(np.arange(self.size)), np.full(self.size, self.max_priority))

    def sample(self, batch_size: int, rng: np.random.Generator, beta: float = 1.0):
        """(batch, indices, weights): the five arrays of ReplayBuffer.sample for B transitions
        drawn with probability P(i); their storage rows (B,), for update_priorities; and their
        importance weights wᵢ = (N·P(i))^(−β) / maxⱼ wⱼ: (B,) in the buffer's dtype."""
        self._check_sample(batch_size)
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1], got {beta!r}")
        indices = self.tree.find(rng.random(batch_size) * self.tree.total)  # (B,) storage rows
        probabilities = self.tree.get(indices) / self.tree.total  # P(i): (B,)
        weights = (self.size * probabilities) ** -beta
        return self._fields(self._gather(indices)), indices, (weights / weights.max()).astype(self.dtype)

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """pᵢ ← |δᵢ| + eps for the transitions at storage rows `indices` (as `sample` gave them)."""
        priorities = np.abs(np.asarray(td_errors, dtype=np.float64)) + self.eps
        self._set(indices, priorities)
        self.max_priority = max(self.max_priority, float(priorities.max()))

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """As ReplayBuffer's, plus each transition's priority p (oldest first), the largest, and
        the ring's `next` row: the tree's layout decides which transition a draw finds."""
        meta, arrays = super().state()
        priorities = self.priorities[self.positions(np.arange(self.size))]
        return ({**meta, "max_priority": self.max_priority, "next": self.next},
                {**arrays, "priorities": priorities})

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        priorities, top, next_row = arrays["priorities"], meta["max_priority"], meta["next"]
        super().load_state(meta, arrays)  # the rows from row 0, which get max_priority for now
        if not (isinstance(next_row, int) and 0 <= next_row < self.capacity and
                (self.size == self.capacity or next_row == self.size)):
            raise ValueError(f"next must be the ring's next row, got {next_row!r}")
        if self.size == self.capacity:  # the saved layout: transition i (oldest first) at row (next + i) mod N
            self._write(slice(None), np.roll(self._gather(slice(None)), next_row, axis=0))
            self.next = next_row
        if priorities.shape != (self.size,) or not np.all(priorities > 0):
            raise ValueError(f"priorities must be {self.size} numbers > 0, got shape {priorities.shape}")
        if not (isinstance(top, float) and top >= priorities.max(initial=0.0)):
            raise ValueError(f"max_priority must be a number ≥ every priority, got {top!r}")
        self._set(self.positions(np.arange(self.size)), priorities)
        self.max_priority = top
