"""QR-DQN: the return as N quantiles per action, learnt by the quantile Huber loss.

Dabney, Rowland, Bellemare & Munos (2018), "Distributional Reinforcement Learning with Quantile
Regression". Where C51 fixes the atoms and learns their probabilities, QR-DQN fixes the
probabilities, 1/N each, and learns where the atoms are: output θᵢ(s, a) estimates the τ̂ᵢ-quantile
of the return, at the midpoints

    τ̂ᵢ = (2i + 1) / (2N),   i = 0 … N−1,

and Q(s, a) = (1/N) Σᵢ θᵢ(s, a). The target of a transition is the next state's quantiles moved
by the Bellman operator, T θⱼ = r + d·θⱼ(s′, a*) (d = γⁿ, or 0 at a terminal), with no
projection: quantiles can sit anywhere.

    >>> quantile_midpoints(4)
    array([0.125, 0.375, 0.625, 0.875])
"""

from __future__ import annotations

import numpy as np

from minidqn.nn.losses import huber


def quantile_midpoints(num_quantiles: int) -> np.ndarray:
    """τ̂: (N,), the quantile levels the outputs estimate: the midpoints of N equal slices of [0, 1]."""
    if int(num_quantiles) != num_quantiles or num_quantiles < 1:
        raise ValueError(f"num_quantiles must be a positive integer, got {num_quantiles!r}")
    N = int(num_quantiles)
    return (2 * np.arange(N) + 1) / (2 * N)


def quantile_targets(next_quantiles: np.ndarray, rewards: np.ndarray, discounts: np.ndarray) -> np.ndarray:
    """T θ: (B, N) = r + d·θ(s′, a*), for next_quantiles θ(s′, a*): (B, N), rewards and discounts: (B,)."""
    return rewards[:, None] + discounts[:, None] * next_quantiles


def _check(quantiles: np.ndarray, actions: np.ndarray, targets: np.ndarray, kappa: float) -> None:
    """ValueError unless quantiles (B, A, N), actions (B,) and targets (B, N′) fit and κ > 0."""
    B, A, N = quantiles.shape
    if actions.shape != (B,) or targets.ndim != 2 or targets.shape[0] != B:
        raise ValueError(f"expected actions ({B},) and targets ({B}, N′) for quantiles {(B, A, N)}; "
                         f"got {actions.shape} and {targets.shape}")
    if kappa <= 0:
        raise ValueError(f"kappa must be > 0, got {kappa}")


def quantile_huber_loss(quantiles: np.ndarray, actions: np.ndarray, targets: np.ndarray, kappa: float = 1.0,
                        weights: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """The quantile Huber loss of the taken action's quantiles against the target quantiles.

    quantiles θ: (B, A, N), actions: (B,), targets T θ: (B, N′), optional weights w: (B,). For
    each pair of an output i and a target j, the error is u_bij = T θ_bj − θ_bi, and

        ρᵢ(u) = |τ̂ᵢ − [u < 0]| · h(u) / κ,   h the Huber function of width κ (minidqn.nn.losses.huber)
        L = (1/B) Σ_b w_b · ℓ_b,   ℓ_b = Σᵢ (1/N′) Σⱼ ρᵢ(u_bij)

    The weight |τ̂ᵢ − [u < 0]| is the quantile regression's asymmetry: a target above θᵢ pulls it
    up with weight τ̂ᵢ, one below pulls it down with weight 1 − τ̂ᵢ, so θᵢ settles where a
    fraction τ̂ᵢ of the targets lie below it. The Huber function keeps the gradient bounded
    near zero error. With h′(u) = clip(u, −κ, κ) and du/dθᵢ = −1,

        dL/dθ[b, a_b, i] = −(w_b / B) · (1/N′) Σⱼ |τ̂ᵢ − [u_bij < 0]| · clip(u_bij, −κ, κ) / κ

    and zero for the actions not taken. (At u = 0 the weight jumps, but h′(0) = 0, so the
    gradient is continuous.) Returns (L, dL/dθ: (B, A, N), ℓ: (B,)); ℓ is a transition's
    priority for prioritized replay.
    """
    _check(quantiles, actions, targets, kappa)
    B, _, N = quantiles.shape
    rows = np.arange(B)
    taken = quantiles[rows, actions]  # θ_bi: (B, N)
    u = targets[:, None, :] - taken[:, :, None]  # u_bij = T θ_bj − θ_bi: (B, N, N′)
    tau = quantile_midpoints(N).astype(u.dtype)[None, :, None]  # τ̂ᵢ: (1, N, 1), in u's precision
    asymmetry = np.where(u < 0, 1 - tau, tau)  # |τ̂ᵢ − [u < 0]|: (B, N, N′)
    h, h_prime = huber(u, kappa)  # h(u), h′(u) = clip(u, −κ, κ): (B, N, N′) each
    per_sample = (asymmetry * h).mean(axis=2).sum(axis=1) / kappa  # ℓ_b: (B,)
    slope = (asymmetry * h_prime).mean(axis=2) / kappa  # (1/N′) Σⱼ dρᵢ/du: (B, N)
    w = np.ones(B) if weights is None else weights
    grad = np.zeros_like(quantiles)
    grad[rows, actions] = -(w / B)[:, None] * slope  # du/dθᵢ = −1
    return float(w @ per_sample) / B, grad, per_sample


class QuantileHuberLoss:
    """quantile_huber_loss with its (B, N, N′) arrays kept from one call to the next: the same
    operations in the same order, so the same numbers to the last bit (tests/test_distributional.py).

    NOTE: why it exists. The plain function makes about a dozen arrays of B·N·N′ numbers each
    step (64 × 51 × 51 for LunarLander's preset) and frees them; glibc's malloc hands the freed
    memory at the top of its heap back to the system, and the next step takes it back a page at a
    time. Measured on 12,000 steps of LunarLander's QR-DQN preset: 43.1 s with the plain function,
    19.0 s of it in the kernel and 12.4 million page faults; docs/benchmarks.md has the figures
    with this class. Arrays allocated once and written with `out=` never go back.
    """

    def __init__(self):
        self.shape = None

    def _buffers(self, shape: tuple, dtype) -> None:
        if self.shape != (shape, dtype):
            self.shape = (shape, dtype)
            self.u, self.asymmetry, self.abs_u, self.inside, self.h, self.h_prime, self.product = (
                np.empty(shape, dtype) for _ in range(7))
            self.below = np.empty(shape, bool)
            self.tau = quantile_midpoints(shape[1]).astype(dtype)[None, :, None]  # τ̂ᵢ: (1, N, 1)

    def __call__(self, quantiles: np.ndarray, actions: np.ndarray, targets: np.ndarray, kappa: float = 1.0,
                 weights: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray]:
        """(L, dL/dθ: (B, A, N), ℓ: (B,)), as quantile_huber_loss(quantiles, actions, targets, kappa, weights)."""
        _check(quantiles, actions, targets, kappa)
        B, _, N = quantiles.shape
        rows = np.arange(B)
        taken = quantiles[rows, actions]  # θ_bi: (B, N)
        dtype = np.result_type(targets, taken)
        self._buffers((B, N, targets.shape[1]), dtype)
        u = np.subtract(targets[:, None, :], taken[:, :, None], out=self.u)  # u_bij = T θ_bj − θ_bi
        tau = self.tau
        asymmetry = self.asymmetry  # |τ̂ᵢ − [u < 0]|: τ̂ᵢ, then 1 − τ̂ᵢ where u < 0
        np.copyto(asymmetry, tau)
        np.copyto(asymmetry, 1 - tau, where=np.less(u, 0, out=self.below))
        # h(u) = ½m² + κ(|u| − m) and h′(u) = sign(u)·m, with m = min(|u|, κ), as minidqn.nn.losses.huber
        abs_u = np.abs(u, out=self.abs_u)
        inside = np.minimum(abs_u, kappa, out=self.inside)  # m
        h = np.square(inside, out=self.h)
        h *= 0.5  # ½m²
        beyond = np.subtract(abs_u, inside, out=self.abs_u)  # |u| − m (|u| is not needed after this)
        beyond *= kappa
        h += beyond
        h_prime = np.copysign(inside, u, out=self.h_prime)
        per_sample = np.multiply(asymmetry, h, out=self.product).mean(axis=2).sum(axis=1) / kappa  # ℓ_b: (B,)
        slope = np.multiply(asymmetry, h_prime, out=self.product).mean(axis=2) / kappa  # (B, N)
        w = np.ones(B) if weights is None else weights
        grad = np.zeros_like(quantiles)
        grad[rows, actions] = -(w / B)[:, None] * slope  # du/dθᵢ = −1
        return float(w @ per_sample) / B, grad, per_sample
