"""TD losses on the Q-value of the taken action: mean squared error and Huber, with their gradients.

Both take q: (B, A) from the online network, actions: (B,) integers, targets: (B,) the TD
targets y, and optional per-sample weights w: (B,) (prioritized replay's importance weights).
With the TD error δᵢ = q[i, aᵢ] − yᵢ, each returns the loss averaged over the batch (divided by
B) and dL/dq: (B, A), which is zero for every action that was not taken: only the Q-value the
agent acted on is compared with a target.
"""

from __future__ import annotations

import numpy as np


def _td_errors(q: np.ndarray, actions: np.ndarray, targets: np.ndarray, weights) -> np.ndarray:
    """δ = q[i, aᵢ] − yᵢ: (B,), after checking that the arguments fit together."""
    if q.ndim != 2:
        raise ValueError(f"q must be (B, A), got shape {q.shape}")
    B = q.shape[0]
    if actions.shape != (B,) or actions.dtype.kind not in "iu":
        raise ValueError(f"actions must be integers of shape ({B},), got {actions.dtype} {actions.shape}")
    if targets.shape != (B,):
        raise ValueError(f"targets must have shape ({B},), got {targets.shape}")
    if weights is not None and np.shape(weights) != (B,):
        raise ValueError(f"weights must have shape ({B},), got {np.shape(weights)}")
    return q[np.arange(B), actions] - targets  # (B,)


def _scatter(q: np.ndarray, actions: np.ndarray, grad_taken: np.ndarray) -> np.ndarray:
    """dL/dq: (B, A), zero everywhere but at (i, aᵢ), where it is grad_taken[i]."""
    grad_q = np.zeros(q.shape, q.dtype)
    grad_q[np.arange(q.shape[0]), actions] = grad_taken
    return grad_q


def mse_loss(
    q: np.ndarray, actions: np.ndarray, targets: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """L = (1/B) Σᵢ wᵢ·δᵢ²; dL/dq[i, aᵢ] = 2·wᵢ·δᵢ / B and 0 elsewhere (wᵢ = 1 without weights)."""
    td_error = _td_errors(q, actions, targets, weights)
    B = q.shape[0]
    weighted = td_error if weights is None else weights * td_error  # wᵢ·δᵢ: (B,)
    loss = float(weighted @ td_error) / B  # Σᵢ wᵢ·δᵢ² as one dot product
    return loss, _scatter(q, actions, (2.0 / B) * weighted)


def huber(x: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """The Huber function of width `delta`, elementwise, and its derivative:

        h(x) = ½x²                   if |x| ≤ delta
        h(x) = delta·(|x| − ½delta)  otherwise,        h′(x) = clip(x, −delta, delta)

    With m = min(|x|, delta), the part of |x| within delta, both pieces are one expression,
    h(x) = ½m² + delta·(|x| − m), and h′(x) = sign(x)·m: no branch per element."""
    abs_x = np.abs(x)
    inside = np.minimum(abs_x, delta)  # m: the part of |x| within delta
    return 0.5 * inside**2 + delta * (abs_x - inside), np.copysign(inside, x)


def huber_loss(
    q: np.ndarray,
    actions: np.ndarray,
    targets: np.ndarray,
    delta: float = 1.0,
    weights: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """L = (1/B) Σᵢ wᵢ·h(δᵢ), with the Huber function

        h(δ) = ½δ²               if |δ| ≤ delta
        h(δ) = delta·(|δ| − ½delta)  otherwise,

    quadratic near zero and linear beyond `delta`, so one large TD error cannot dominate the
    step. Its derivative is h′(δ) = clip(δ, −delta, delta), so dL/dq[i, aᵢ] = wᵢ·h′(δᵢ) / B and
    0 elsewhere. At |δ| = delta both pieces agree in value and slope (`huber`).
    """
    if delta <= 0:
        raise ValueError(f"delta must be > 0, got {delta}")
    td_error = _td_errors(q, actions, targets, weights)
    B = q.shape[0]
    per_sample, slope = huber(td_error, delta)  # h(δ), h′(δ): (B,) each
    if weights is not None:
        per_sample *= weights
        slope *= weights
    return float(per_sample.sum()) / B, _scatter(q, actions, slope / B)
