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

    A distributional network (minidqn.distributional) outputs N numbers per action, one per
    atom or quantile, and duels over each of them as Rainbow does (Hessel et al., 2018): with
    `atoms` = N, z: (B, (1 + A)·N) holds [V | A(·, 1) ... A(·, A)] with N numbers each, and
    every atom's column is combined as above, giving (B, A·N), N numbers per action. The
    product form is for one output per action; with N > 1 the layer computes the plain form.
    """

    AGGREGATIONS = ("avg", "max", "naive")

    def __init__(self, n_actions: int, dtype=np.float64, as_product: bool = True, aggregation: str = "avg",
                 atoms: int = 1):
        if aggregation not in self.AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {self.AGGREGATIONS}, got {aggregation!r}")
        A, self.atoms = int(n_actions), int(atoms)
        self.aggregation = aggregation
        self.as_product = bool(as_product) and aggregation != "max" and self.atoms == 1
        centre = np.eye(A) - 1.0 / A if aggregation == "avg" else np.eye(A)
        self.M = np.vstack([np.ones((1, A)), centre]).astype(dtype)  # (1 + A, A)
        self.best = None  # "max": argmaxₐ A(s, a) of the last forward, (B, N)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        if self.as_product:
            return z @ self.M  # (B, 1 + A) -> (B, A): the equation below, as one product
        z = z.reshape(len(z), -1, self.atoms)  # (B, 1 + A, N): N numbers for V and for each A
        V, A = z[:, :1], z[:, 1:]  # (B, 1, N), (B, A, N)
        if self.aggregation == "naive":
            Q = V + A
        elif self.aggregation == "max":
            Q = V + (A - A.max(axis=1, keepdims=True))  # (B, A, N)
        else:
            mean_A = A.sum(axis=1, keepdims=True) / A.shape[1]  # (B, 1, N): (1/A) Σₐ′ A(s, a′)
            Q = V + (A - mean_A)  # (B, A, N); V and the mean broadcast over the actions
        return Q.reshape(len(z), -1)  # (B, A·N)

    def forward(self, z: np.ndarray) -> np.ndarray:
        """As __call__; for "max" it also keeps which action held the maximum (avg and naive
        are linear in z, so their backward does not depend on z)."""
        if self.aggregation == "max":
            self.best = z.reshape(len(z), -1, self.atoms)[:, 1:].argmax(axis=1)  # (B, N), the first of tied maxima
        return self(z)

    def backward(self, grad_q: np.ndarray) -> np.ndarray:
        """Given dL/dQ: (B, A), return dL/dz = [dL/dV | dL/dA]: (B, 1 + A) (with N atoms, (B, A·N) to
        (B, (1 + A)·N), every atom's column alike), where

            dL/dV   = Σₐ dL/dQ(a)                           (B, 1), for every aggregation
            dL/dA_j = dL/dQ(j) − (1/A) Σₐ dL/dQ(a)           (B, A), avg
            dL/dA_j = dL/dQ(j) − [j = j*] Σₐ dL/dQ(a)        max, j* = argmaxₐ A(s, a)
            dL/dA_j = dL/dQ(j)                               naive

        since every Q(a) holds V once, and A_j with weight [a = j] − 1/A (avg; that is dL/dQ·Mᵀ),
        [a = j] − [j = j*] (max), or [a = j] (naive).
        """
        if self.as_product:
            return grad_q @ self.M.T  # the lines below, as one product
        B = len(grad_q)
        grad_q = grad_q.reshape(B, -1, self.atoms)  # (B, A, N)
        grad_V = grad_q.sum(axis=1, keepdims=True)  # (B, 1, N): Σₐ dL/dQ(a)
        if self.aggregation == "avg":
            grad_A = grad_q - grad_V / grad_q.shape[1]  # (B, A, N)
        else:
            grad_A = grad_q.copy()
            if self.aggregation == "max":  # A_{j*} is subtracted from every Q(a)
                best = self.best[:, None, :]  # (B, 1, N)
                np.put_along_axis(grad_A, best, np.take_along_axis(grad_A, best, axis=1) - grad_V, axis=1)
        return np.concatenate([grad_V, grad_A], axis=1).reshape(B, -1)  # (B, (1 + A)·N)
