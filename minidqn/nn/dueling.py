"""The dueling head's last step (Wang et al., 2016): a state's value and each action's advantage make its Q-values.

An MLP built with dueling=True ends in this layer (minidqn.nn.layers.MLP); tests/test_nn.py
checks its gradients, and that its plain form and its product form agree.
"""

from __future__ import annotations

import numpy as np


class Dueling:
    """The dueling head's last step (Wang et al., 2016): one value and A advantages -> A Q-values.

        Q(s, a) = V(s) + A(s, a) − (1/A) Σₐ′ A(s, a′)

    Its input z: (B, 1 + A) holds [V | A(·, 1) ... A(·, A)], the outputs of the Linear layer
    before it; the mean is subtracted so that V and A are identifiable (adding c to V and −c
    to every A would otherwise give the same Q). The layer has no parameters.

    The fast path: Q is linear in z, so the same equation is one product with a constant
    (1 + A, A) matrix M,

        Q = z·M,   M = [ 1  1  ...  1 ]     row 0: V enters every Q(a) with weight 1
                       [   I − 1/A    ]     row j: A_j enters Q(a) with weight [a = j] − 1/A

    and dL/dz = dL/dQ·Mᵀ. One product replaces a sum, a division, a subtraction and an addition,
    and the head runs in every forward pass (four per training step); docs/benchmarks.md
    measures what that buys. With as_product=False the layer computes the plain form below;
    tests/test_nn.py checks that both agree, and checks each against finite differences.

    keras-rl's other aggregations (`aggregation`): "max", Q = V + A − maxₐ′ A(s, a′), and
    "naive", Q = V + A. "naive" is linear too (M = [1 … 1; I]); "max" is not, so it always runs
    the plain form, and its backward needs which action held the maximum in the last forward.
    At a tie the first such action takes the whole gradient (np.argmax's choice): Q is not
    differentiable there, and any split of the gradient among the tied actions is a valid one.
    """

    AGGREGATIONS = ("avg", "max", "naive")

    def __init__(self, n_actions: int, dtype=np.float64, as_product: bool = True, aggregation: str = "avg"):
        if aggregation not in self.AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {self.AGGREGATIONS}, got {aggregation!r}")
        A = int(n_actions)
        self.aggregation = aggregation
        self.as_product = bool(as_product) and aggregation != "max"
        centre = np.eye(A) - 1.0 / A if aggregation == "avg" else np.eye(A)
        self.M = np.vstack([np.ones((1, A)), centre]).astype(dtype)  # (1 + A, A)
        self.best = None  # "max": argmaxₐ A(s, a) of the last forward, (B,)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        if self.as_product:
            return z @ self.M  # (B, 1 + A) -> (B, A): the equation below, as one product
        V, A = z[:, :1], z[:, 1:]  # (B, 1), (B, A)
        if self.aggregation == "naive":
            return V + A
        if self.aggregation == "max":
            return V + (A - A.max(axis=1, keepdims=True))  # (B, A)
        mean_A = A.sum(axis=1, keepdims=True) / A.shape[1]  # (B, 1): (1/A) Σₐ′ A(s, a′)
        return V + (A - mean_A)  # (B, A); V and the mean broadcast over the actions

    def forward(self, z: np.ndarray) -> np.ndarray:
        """As __call__; for "max" it also keeps which action held the maximum (avg and naive
        are linear in z, so their backward does not depend on z)."""
        if self.aggregation == "max":
            self.best = z[:, 1:].argmax(axis=1)  # (B,), the first of tied maxima
        return self(z)

    def backward(self, grad_q: np.ndarray) -> np.ndarray:
        """Given dL/dQ: (B, A), return dL/dz = [dL/dV | dL/dA]: (B, 1 + A), where

            dL/dV   = Σₐ dL/dQ(a)                           (B, 1), for every aggregation
            dL/dA_j = dL/dQ(j) − (1/A) Σₐ dL/dQ(a)           (B, A), avg
            dL/dA_j = dL/dQ(j) − [j = j*] Σₐ dL/dQ(a)        max, j* = argmaxₐ A(s, a)
            dL/dA_j = dL/dQ(j)                               naive

        since every Q(a) holds V once, and A_j with weight [a = j] − 1/A (avg; that is dL/dQ·Mᵀ),
        [a = j] − [j = j*] (max), or [a = j] (naive).
        """
        if self.as_product:
            return grad_q @ self.M.T  # the lines below, as one product
        grad_V = grad_q.sum(axis=1, keepdims=True)  # (B, 1): Σₐ dL/dQ(a)
        if self.aggregation == "avg":
            grad_A = grad_q - grad_V / grad_q.shape[1]  # (B, A)
        else:
            grad_A = grad_q.copy()
            if self.aggregation == "max":
                grad_A[np.arange(len(grad_A)), self.best] -= grad_V[:, 0]  # A_{j*} is subtracted from every Q(a)
        return np.concatenate([grad_V, grad_A], axis=1)  # (B, 1 + A)
