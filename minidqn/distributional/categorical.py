"""C51: the return as a categorical distribution on fixed atoms, its Bellman target projected back, and its loss.

Bellemare, Dabney & Munos (2017), "A Distributional Perspective on Reinforcement Learning". The
network outputs, for each action, N logits; their softmax pᵢ(s, a) is the probability that the
return is the atom zᵢ of the fixed support

    zᵢ = v_min + i·Δz,   i = 0 … N−1,   Δz = (v_max − v_min) / (N − 1),

and Q(s, a) = Σᵢ pᵢ(s, a)·zᵢ is what the agent acts on. The target of a transition moves every
atom of the next state's distribution by the Bellman operator, T zⱼ = r + d·zⱼ (d = γⁿ, or 0 at a
terminal), which lands between atoms; `categorical_projection` shares each moved atom's
probability between its two neighbours on the support, and `categorical_loss` is the
cross-entropy of the network's distribution for the taken action against that target.

    >>> support = categorical_support(-10.0, 10.0, 5)  # atoms -10, -5, 0, 5, 10
    >>> next_probs = np.array([[0.0, 0.0, 1.0, 0.0, 0.0]])  # the next state returns 0 for sure
    >>> categorical_projection(support, next_probs, np.array([2.5]), np.array([0.9]))  # r = 2.5 lands halfway
    array([[0. , 0. , 0.5, 0.5, 0. ]])
"""

from __future__ import annotations

import numpy as np


def categorical_support(v_min: float, v_max: float, num_atoms: int) -> np.ndarray:
    """The atoms z: (N,), evenly spaced from v_min to v_max, both included."""
    if not v_min < v_max:
        raise ValueError(f"v_min must be below v_max, got v_min={v_min}, v_max={v_max}")
    if int(num_atoms) != num_atoms or num_atoms < 2:
        raise ValueError(f"num_atoms must be an integer ≥ 2, got {num_atoms!r}")
    return np.linspace(v_min, v_max, int(num_atoms))


def categorical_projection(support: np.ndarray, next_probs: np.ndarray, rewards: np.ndarray,
                           discounts: np.ndarray) -> np.ndarray:
    """The target distribution m: (B, N) on `support`, for next_probs: (B, N), rewards: (B,) and
    discounts: (B,) (γⁿ for a transition that bootstraps, 0 for one that ended in a terminal).

    Each next atom zⱼ moves to T zⱼ = r + d·zⱼ, clipped to [v_min, v_max], and lands at
    b = (T zⱼ − v_min)/Δz in units of atoms; its probability pⱼ is shared between the atoms on
    either side in proportion to closeness (Bellemare et al., Algorithm 1):

        m[⌊b⌋] += pⱼ·(⌈b⌉ − b),    m[⌈b⌉] += pⱼ·(b − ⌊b⌋)

    and a moved atom that lands exactly on an atom (⌊b⌋ = ⌈b⌉) gives it all of pⱼ. The same in
    one line: mᵢ = Σⱼ [1 − |T zⱼ − zᵢ|/Δz]₀¹·pⱼ, a triangle of width 2Δz around each atom. The
    additions run for the whole batch at once as two np.bincount calls over the flattened
    (B·N) result, where several moved atoms may add to one target atom. Σᵢ mᵢ = Σⱼ pⱼ.
    """
    support = np.asarray(support)
    B, N = next_probs.shape
    if support.shape != (N,) or rewards.shape != (B,) or discounts.shape != (B,):
        raise ValueError(f"expected support ({N},), rewards ({B},) and discounts ({B},) for next_probs {(B, N)}; "
                         f"got {support.shape}, {rewards.shape}, {discounts.shape}")
    v_min, v_max = support[0], support[-1]
    delta_z = (v_max - v_min) / (N - 1)
    moved = np.clip(rewards[:, None] + discounts[:, None] * support[None, :], v_min, v_max)  # T zⱼ: (B, N)
    b = (moved - v_min) / delta_z  # (B, N): where each moved atom lands, in atoms from v_min
    lower, upper = np.floor(b).astype(np.int64), np.ceil(b).astype(np.int64)  # ⌊b⌋, ⌈b⌉: (B, N)
    # NOTE: where b is a whole number both shares below are 0, and pⱼ would vanish: give it to ⌊b⌋.
    lower_share = next_probs * (upper - b + (lower == upper))  # pⱼ·(⌈b⌉ − b), or pⱼ on an atom
    upper_share = next_probs * (b - lower)  # pⱼ·(b − ⌊b⌋)
    offset = N * np.arange(B)[:, None]  # (B, 1): row b of m starts at b·N in the flattened (B·N,) result
    m = np.bincount((offset + lower).ravel(), lower_share.ravel(), minlength=B * N)
    m += np.bincount((offset + upper).ravel(), upper_share.ravel(), minlength=B * N)
    return m.reshape(B, N).astype(next_probs.dtype, copy=False)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log pᵢ = ℓᵢ − log Σₖ exp ℓₖ over the last axis, with the largest ℓ subtracted first so that
    no exp overflows (the result is the same: the shift cancels)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def categorical_loss(logits: np.ndarray, actions: np.ndarray, target_probs: np.ndarray,
                     weights: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """The cross-entropy of the taken action's distribution against the projected target.

    logits: (B, A, N), actions: (B,), target_probs m: (B, N), optional weights w: (B,). With
    p = softmax(logits[b, a_b]) over the N atoms,

        L = (1/B) Σ_b w_b · H_b,     H_b = −Σᵢ m_bi · log p_bi

    and, since Σᵢ m_bi = 1, dL/dlogits[b, a_b, i] = w_b·(p_bi − m_bi) / B, zero for the actions
    not taken. Returns (L, dL/dlogits: (B, A, N), H: (B,)); H is what prioritized replay uses as
    a transition's priority, as Rainbow does (Hessel et al., 2018).
    """
    B, A, N = logits.shape
    if actions.shape != (B,) or target_probs.shape != (B, N):
        raise ValueError(f"expected actions ({B},) and target_probs ({B}, {N}) for logits {(B, A, N)}; "
                         f"got {actions.shape} and {target_probs.shape}")
    rows = np.arange(B)
    log_p = log_softmax(logits[rows, actions])  # (B, N): the taken action's log-probabilities
    cross_entropy = -(target_probs * log_p).sum(axis=1)  # H_b: (B,)
    grad_taken = np.exp(log_p) - target_probs  # dH_b/dlogits = p − m: (B, N)
    w = np.ones(B) if weights is None else weights
    grad_logits = np.zeros_like(logits)
    grad_logits[rows, actions] = (w / B)[:, None] * grad_taken
    return float(w @ cross_entropy) / B, grad_logits, cross_entropy
