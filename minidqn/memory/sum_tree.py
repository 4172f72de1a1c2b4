"""A sum tree: N non-negative numbers whose total, and whose prefix-sum search, cost O(log N).

Prioritized replay draws transition k with probability pₖ / Σ pⱼ. Drawing from such a
distribution needs the total and a search "which k holds the point u of [0, total)?"; over a
plain array that is a cumulative sum, O(N) per batch, and the priorities change after every
gradient step. The sum tree keeps both at O(log N):

    tree[1]            the root: the total of all leaves
    tree[i]            = tree[2i] + tree[2i + 1] for every internal node i   (the invariant)
    tree[L + k]        leaf k, the value of item k, for k = 0 … N − 1 (L = the leaf count, a power
                       of two ≥ N; leaves N … L − 1 hold 0 and are never found)

Setting a leaf re-adds its ancestors (log₂ L of them); finding u walks down from the root, going
left if u < tree[left] and otherwise subtracting tree[left] and going right. Both run on a whole
batch at once: one NumPy operation per level of the tree, never a Python loop over the batch.

    >>> tree = SumTree(4)
    >>> tree.set([0, 1, 2, 3], [1.0, 2.0, 3.0, 4.0])
    >>> tree.total
    10.0
    >>> tree.find(np.array([0.5, 1.0, 2.9, 3.0, 9.99])).tolist()  # [0, 1) → 0, [1, 3) → 1, [3, 6) → 2, ...
    [0, 1, 1, 2, 3]
"""

from __future__ import annotations

import numpy as np


class SumTree:
    """N leaves in an array of 2L float64 nodes (node 0 unused), with the invariant above."""

    def __init__(self, size: int):
        if not (isinstance(size, (int, np.integer)) and size >= 1):
            raise ValueError(f"size must be a positive integer, got {size!r}")
        self.size = int(size)
        self.leaves = 1 << (self.size - 1).bit_length()  # L: the smallest power of two ≥ N
        self.tree = np.zeros(2 * self.leaves)  # (2L,): tree[L + k] is leaf k
        self.depth = self.leaves.bit_length() - 1  # log₂ L: the levels below the root

    @property
    def total(self) -> float:
        return float(self.tree[1])

    def get(self, indices) -> np.ndarray:
        """The values of leaves `indices`: (B,)."""
        return self.tree[self.leaves + np.asarray(indices)]

    def set(self, indices, values) -> None:
        """Leaf k ← value for each pair, then every ancestor re-added from its two children.
        (A repeated index keeps its last value; its ancestors are recomputed the same either way.)"""
        node = self.leaves + np.asarray(indices, dtype=np.int64)
        if np.any(node < self.leaves) or np.any(node >= self.leaves + self.size):
            raise IndexError(f"leaf indices must be in 0 … {self.size - 1}, got {np.asarray(indices).tolist()}")
        values = np.asarray(values, dtype=np.float64)
        if not (np.all(np.isfinite(values)) and np.all(values >= 0)):
            raise ValueError(f"values must be finite and ≥ 0, got {values.tolist()}")
        if len(node) == 1:  # one leaf (a new transition, every env step): plain Python is faster
            self._set_one(int(node[0]), float(values[0]))
            return
        self.tree[node] = values
        for _ in range(self.depth):
            node //= 2
            self.tree[node] = self.tree[2 * node] + self.tree[2 * node + 1]

    def _set_one(self, node: int, value: float) -> None:
        """The same walk for one leaf, node = L + k, one scalar at a time (NumPy's per-call cost
        on a one-element array is ten times the arithmetic)."""
        tree = self.tree
        tree[node] = value
        while node > 1:
            node //= 2
            tree[node] = tree[2 * node] + tree[2 * node + 1]

    def find(self, u: np.ndarray) -> np.ndarray:
        """For each point u in [0, total): the leaf k with Σ_{j<k} vⱼ ≤ u < Σ_{j≤k} vⱼ: (B,) ints."""
        u = np.array(u, dtype=np.float64)  # a copy: it is consumed on the way down
        node = np.ones(len(u), dtype=np.int64)
        for _ in range(self.depth):
            left = 2 * node
            # NOTE: "and the right subtree is not empty": rounding can leave u a hair beyond the
            # last non-zero leaf, and an empty leaf (probability 0) must never be drawn.
            right = (u >= self.tree[left]) & (self.tree[left + 1] > 0)  # (B,) bool
            u -= self.tree[left] * right
            node = left + right
        return node - self.leaves
