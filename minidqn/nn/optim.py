"""Gradient-descent optimizers that update parameter arrays in place: SGD (with momentum) and Adam.

An optimizer holds a list of parameter arrays and, for each, whatever running state its rule
needs. `step(grads)` takes the gradients in the same order and shapes, optionally rescales them so
their global norm is at most `max_grad_norm`, and moves the parameters. It never reallocates a
parameter, so views into a network's parameter vector stay valid.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from minidqn.common.validation import count, is_real


def grad_norm(grads: Sequence[np.ndarray]) -> float:
    """‖g‖, the norm of all gradients concatenated. Computed in the gradients' own dtype, so it
    is inf exactly when their squares overflow it, which is when Adam's second moment v (a
    running mean of g², in the same dtype) would overflow too."""
    return math.sqrt(sum(float(np.dot(g.ravel(), g.ravel())) for g in grads))


def clip_grad_norm(grads: Sequence[np.ndarray], max_norm: float) -> float:
    """Scale all gradients by min(1, max_norm / ‖g‖) in place, where ‖g‖ is the norm of all of
    them concatenated; return ‖g‖ before clipping. The direction of the step is kept."""
    if max_norm <= 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    total_norm = grad_norm(grads)
    if math.isfinite(total_norm) and total_norm > max_norm:
        scale = max_norm / total_norm
        for g in grads:
            g *= scale
    return total_norm


def flush_to_zero(a: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Set to 0, in place, the entries of `a` smaller in size than the dtype's smallest normal
    number (about 1.2e-38 in float32): its subnormal numbers. `scratch` is an array like `a`.

    A parameter whose gradient is 0 for a while (a weight behind a unit that stays off) has its
    moment m shrink by β₁ = 0.9 every step, and below 1.2e-38 the CPU stores it as a subnormal,
    on which arithmetic is many times slower. After 10,000 MinAtar frames, 24% of m was
    subnormal and Adam's step took 5.5 times as long as on a fresh m (docs/pixels.md). A moment
    that small is far below anything a step can feel: such an m moves θ by under lr·1e-29 (the
    bias correction at most 10, over eps = 1e-8), and such a v changes √v̂ + eps by under 1e-18
    against eps. Setting them to 0 is what CPUs call flush-to-zero, done here by hand.
    """
    np.greater_equal(np.abs(a, out=scratch), smallest_normal(a.dtype), out=scratch)  # 1.0 where |a| ≥ tiny, else 0.0
    a *= scratch
    return a


# The optimizers flush their running arrays every FLUSH_EVERY steps, so that a moment is subnormal
# for at most that many steps (left alone, Adam's m would spend about 150 steps there, falling by
# β₁ = 0.9 a step, and v about 16,000, by β₂ = 0.999), at a tenth of the cost of flushing every
# step: the flush is six passes over θ, a third of Adam's step (docs/benchmarks.md).
FLUSH_EVERY = 10


@functools.cache
def smallest_normal(dtype: np.dtype) -> float:
    """The smallest positive normal number of a float dtype, np.finfo(dtype).tiny (looked up once
    per dtype: np.finfo costs more than the flush itself on a small θ)."""
    return float(np.finfo(dtype).tiny)


class _Optimizer:
    """What SGD and Adam share: the parameters, the step size, gradient clipping, and the state
    (a step counter and one running array per parameter and per name in `slots`)."""

    slots: tuple[str, ...] = ()  # names of the running arrays, e.g. ("m", "v") for Adam

    def __init__(self, params: Sequence[np.ndarray], lr: float, max_grad_norm: float | None):
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        if max_grad_norm is not None and not max_grad_norm > 0:
            raise ValueError(f"max_grad_norm must be > 0 or None, got {max_grad_norm}")
        self.params = list(params)
        self.shapes = [p.shape for p in self.params]  # what every step's gradients must match
        self.lr = lr
        self.max_grad_norm = max_grad_norm
        self.t = 0  # steps taken so far
        for name in self.slots:
            setattr(self, name, [np.zeros_like(p) for p in self.params])

    def _prepare(self, grads: Sequence[np.ndarray]) -> tuple[list[np.ndarray], float]:
        grads = list(grads)
        if [g.shape for g in grads] != self.shapes:
            raise ValueError(f"grads must match params in number and shapes: got {[g.shape for g in grads]} "
                             f"for {self.shapes}")
        if self.max_grad_norm is not None:
            return grads, clip_grad_norm(grads, self.max_grad_norm)
        return grads, grad_norm(grads)

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The step counter and step size as plain metadata; the running arrays by name
        ("m.0", "v.0", ... for Adam's moments of the first, second, ... parameter)."""
        arrays = {f"{name}.{i}": a for name in self.slots for i, a in enumerate(getattr(self, name))}
        return {"t": self.t, "lr": self.lr}, arrays

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Restore a `state()` of an optimizer over parameters of the same shapes and dtypes."""
        t, lr = count(meta, "t"), meta["lr"]
        if not (is_real(lr) and lr > 0):
            raise ValueError(f"lr must be a number > 0, got {lr!r}")
        for name in self.slots:
            for i, current in enumerate(getattr(self, name)):
                saved = arrays[f"{name}.{i}"]
                if saved.shape != current.shape or saved.dtype != current.dtype:
                    raise ValueError(f"{name}.{i} must be {current.dtype} {current.shape}, "
                                     f"got {saved.dtype} {saved.shape}")
        for name in self.slots:
            for i, current in enumerate(getattr(self, name)):
                current[...] = arrays[f"{name}.{i}"]
        self.t, self.lr = t, lr


class SGD(_Optimizer):
    """Stochastic gradient descent: v ← μ·v + g, θ ← θ − lr·v (plain θ ← θ − lr·g when μ = 0)."""

    slots = ("velocity",)

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float,
        momentum: float = 0.0,
        max_grad_norm: float | None = None,
    ):
        super().__init__(params, lr, max_grad_norm)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = momentum
        self._scratch = [np.empty_like(p) for p in self.params]  # one per parameter array, not state

    def step(self, grads: Sequence[np.ndarray]) -> float:
        """One update; returns ‖g‖ before clipping. If ‖g‖ is inf or NaN, no step is taken and
        the caller should stop."""
        # NOTE: clipping, if set, rescales the caller's gradient arrays in place.
        grads, norm = self._prepare(grads)
        if not math.isfinite(norm):
            return norm
        self.t += 1
        for p, g, v, scratch in zip(self.params, grads, self.velocity, self._scratch):
            v *= self.momentum
            v += g  # v ← μ·v + g
            if self.momentum > 0 and self.t % FLUSH_EVERY == 0:  # with g = 0, v falls by μ a step, as Adam's m
                flush_to_zero(v, scratch)
            p -= np.multiply(self.lr, v, out=scratch)  # θ ← θ − lr·v
        return norm


class Adam(_Optimizer):
    """Adam (Kingma & Ba, 2015). With gradient g at step t = 1, 2, ...:

        m ← β₁·m + (1 − β₁)·g                   first-moment estimate
        v ← β₂·v + (1 − β₂)·g²                  second-moment estimate
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)   bias correction: m and v start at 0
        θ ← θ − lr · m̂ / (√v̂ + eps)

    with m and v flushed to zero where they fall below the smallest normal number (flush_to_zero,
    every FLUSH_EVERY steps), which changes no step and keeps the arithmetic at full speed.
    """

    slots = ("m", "v")

    def __init__(
        self,
        params: Sequence[np.ndarray],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        max_grad_norm: float | None = None,
    ):
        super().__init__(params, lr, max_grad_norm)
        beta1, beta2 = betas
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"betas must each be in [0, 1), got {betas}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        # Scratch space for the terms of each step, one pair per parameter array: a temporary the
        # size of θ is a fresh allocation on every step otherwise (see `step`). Not state: nothing
        # in them survives a step, so they are neither saved nor loaded.
        self._scratch = [(np.empty_like(p), np.empty_like(p)) for p in self.params]

    def step(self, grads: Sequence[np.ndarray]) -> float:
        """One update; returns ‖g‖ before clipping. If ‖g‖ is inf or NaN (g² would overflow v),
        no step is taken, so the parameters and moments stay finite, and the caller should stop."""
        # NOTE: clipping, if set, rescales the caller's gradient arrays in place.
        grads, norm = self._prepare(grads)
        if not math.isfinite(norm):
            return norm
        self.t += 1
        beta1, beta2, t = self.beta1, self.beta2, self.t
        # NOTE: the scalars stay Python floats; a NumPy float64 scalar would promote float32
        # moments to float64 on every step (NumPy 2's promotion rules).
        # NOTE: each line computes one term of the equations above into a scratch array (`out=`),
        # in the same order as the one-line forms in the comments, so the result is the same to
        # the last bit. Written with temporaries, each term of a large θ is a new array, and the
        # step took 3.8 times as long for MinAtar's network of 132,566 parameters (docs/pixels.md).
        for p, g, m, v, (term, denominator) in zip(self.params, grads, self.m, self.v, self._scratch):
            m *= beta1
            m += np.multiply(1.0 - beta1, g, out=term)  # m ← β₁·m + (1 − β₁)·g
            v *= beta2
            np.multiply(1.0 - beta2, g, out=term)
            v += np.multiply(term, g, out=term)  # v ← β₂·v + (1 − β₂)·g·g
            if t % FLUSH_EVERY == 0:
                flush_to_zero(m, term)
                flush_to_zero(v, term)
            m_hat = np.divide(m, 1.0 - beta1**t, out=term)  # m̂ = m / (1 − β₁ᵗ)
            v_hat = np.divide(v, 1.0 - beta2**t, out=denominator)  # v̂ = v / (1 − β₂ᵗ)
            np.sqrt(v_hat, out=denominator)
            denominator += self.eps  # √v̂ + eps
            step = np.multiply(self.lr, m_hat, out=term)
            p -= np.divide(step, denominator, out=term)  # θ ← θ − lr·m̂ / (√v̂ + eps)
        return norm
