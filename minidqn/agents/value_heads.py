"""What a Q-network's outputs mean, and how they learn: one value per action, or the return's distribution.

The agent's loop is the same for all three (minidqn.agents.dqn): the target network judges the
next state's action a′, `target` builds the regression target from it, `loss` compares the
online network's outputs for the taken actions with that target, and `q_values` turns outputs
into the Q-values the agent acts on. With A actions and N atoms or quantiles:

    head          outputs per state    Q(s, a)               target of a transition        loss
    ScalarHead    (A,)                 the output            y = r + d·Q⁻(s′, a′)          MSE or Huber on δ = Q − y
    CategoricalHead (A·N,) logits      Σᵢ pᵢ(s, a)·zᵢ         m = Φ(r + d·z, p⁻(s′, a′))    cross-entropy −Σᵢ mᵢ log pᵢ
    QuantileHead  (A·N,) quantiles     (1/N) Σᵢ θᵢ(s, a)      T θ = r + d·θ⁻(s′, a′)        quantile Huber

where d = γⁿ for a transition that bootstraps and 0 for one that ended in a terminal state, and
⁻ marks the target network. `loss` also returns Q(s, a) of the taken actions (for the record) and
each transition's error for prioritized replay: δ for the scalar head, the per-transition loss
for the distributional ones (as Rainbow does).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from minidqn.agents.config import DQNConfig
from minidqn.distributional import (
    QuantileHuberLoss,
    categorical_loss,
    categorical_projection,
    categorical_support,
    log_softmax,
    quantile_targets,
)
from minidqn.nn.losses import huber_loss, mse_loss


class ScalarHead:
    """One number per action, Q(s, a) itself (DQN as Mnih et al. wrote it)."""

    atoms = 1

    def __init__(self, config: DQNConfig):
        self.loss_fn = mse_loss if config.loss == "mse" else partial(huber_loss, delta=config.huber_delta)

    def q_values(self, outputs: np.ndarray) -> np.ndarray:
        """Q: (B, A), the outputs as they are."""
        return outputs

    def target(self, rewards: np.ndarray, discounts: np.ndarray, next_outputs: np.ndarray,
               next_actions: np.ndarray) -> np.ndarray:
        """y = r + d·Q⁻(s′, a′): (B,)."""
        return rewards + discounts * next_outputs[np.arange(len(rewards)), next_actions]

    def loss(self, outputs: np.ndarray, actions: np.ndarray, target: np.ndarray, weights) -> tuple:
        """(L, dL/d(outputs): (B, A), Q(s, a): (B,), δ = Q(s, a) − y: (B,))."""
        loss, grad = self.loss_fn(outputs, actions, target, weights=weights)
        q_taken = outputs[np.arange(len(actions)), actions]
        return loss, grad, q_taken, q_taken - target


class CategoricalHead:
    """N logits per action, whose softmax is the return's distribution on fixed atoms z (C51)."""

    def __init__(self, config: DQNConfig):
        self.atoms = config.num_atoms
        support = categorical_support(config.v_min, config.v_max, config.num_atoms)
        self.support = support.astype(config.dtype)  # z: (N,), in the network's precision

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """p: (B, A, N), the softmax of each action's N logits."""
        return np.exp(log_softmax(outputs.reshape(len(outputs), -1, self.atoms)))

    def q_values(self, outputs: np.ndarray) -> np.ndarray:
        """Q(s, a) = Σᵢ pᵢ(s, a)·zᵢ: (B, A)."""
        return self.probabilities(outputs) @ self.support

    def target(self, rewards: np.ndarray, discounts: np.ndarray, next_outputs: np.ndarray,
               next_actions: np.ndarray) -> np.ndarray:
        """m: (B, N), the target network's p(s′, a′) moved by r + d·z and projected onto z."""
        next_probs = self.probabilities(next_outputs)[np.arange(len(rewards)), next_actions]  # (B, N)
        return categorical_projection(self.support, next_probs, rewards, discounts)

    def loss(self, outputs: np.ndarray, actions: np.ndarray, target: np.ndarray, weights) -> tuple:
        """(L, dL/d(outputs): (B, A·N), Q(s, a): (B,), the cross-entropy of each transition: (B,))."""
        logits = outputs.reshape(len(outputs), -1, self.atoms)  # (B, A, N)
        loss, grad, cross_entropy = categorical_loss(logits, actions, target, weights)
        taken = logits[np.arange(len(actions)), actions]  # (B, N): only the taken action's distribution is needed
        q_taken = np.exp(log_softmax(taken)) @ self.support  # Q(s, a) = Σᵢ pᵢ(s, a)·zᵢ
        return loss, grad.reshape(outputs.shape).astype(outputs.dtype, copy=False), q_taken, cross_entropy


class QuantileHead:
    """N quantiles per action, at the levels τ̂ᵢ = (2i + 1)/2N (QR-DQN); κ is config.huber_delta."""

    def __init__(self, config: DQNConfig):
        self.atoms, self.kappa = config.num_atoms, config.huber_delta
        self.quantile_huber_loss = QuantileHuberLoss()  # quantile_huber_loss, its arrays kept between steps

    def q_values(self, outputs: np.ndarray) -> np.ndarray:
        """Q(s, a) = (1/N) Σᵢ θᵢ(s, a): (B, A)."""
        return outputs.reshape(len(outputs), -1, self.atoms).mean(axis=2)

    def target(self, rewards: np.ndarray, discounts: np.ndarray, next_outputs: np.ndarray,
               next_actions: np.ndarray) -> np.ndarray:
        """T θ = r + d·θ⁻(s′, a′): (B, N)."""
        next_quantiles = next_outputs.reshape(len(next_outputs), -1, self.atoms)[np.arange(len(rewards)), next_actions]
        return quantile_targets(next_quantiles, rewards, discounts)

    def loss(self, outputs: np.ndarray, actions: np.ndarray, target: np.ndarray, weights) -> tuple:
        """(L, dL/d(outputs): (B, A·N), Q(s, a): (B,), the quantile Huber loss of each transition: (B,))."""
        quantiles = outputs.reshape(len(outputs), -1, self.atoms)  # (B, A, N)
        loss, grad, per_sample = self.quantile_huber_loss(quantiles, actions, target, self.kappa, weights)
        q_taken = quantiles[np.arange(len(actions)), actions].mean(axis=1)
        return loss, grad.reshape(outputs.shape).astype(outputs.dtype, copy=False), q_taken, per_sample


def value_head(config: DQNConfig) -> ScalarHead | CategoricalHead | QuantileHead:
    """The head `config.distribution` names: None, "categorical" or "quantile"."""
    return {None: ScalarHead, "categorical": CategoricalHead, "quantile": QuantileHead}[config.distribution](config)
