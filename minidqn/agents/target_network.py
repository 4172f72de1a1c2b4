"""The target network θ⁻: a copy of the online network θ that follows it slowly, to hold the TD target still.

The TD target y = r + γ·maxₐ′ Q(s′, a′; θ⁻) is computed with θ⁻, not θ: if the network being
trained also made its own targets, every gradient step would move the target it regresses to
(the "moving target" of docs/dqn.md). DQNAgent blends θ into θ⁻ every C gradient steps
(`DQNConfig.target_update_interval`) with `soft_update`; τ = 1 is the hard copy of the DQN paper.
"""

from __future__ import annotations

from minidqn.nn.conv import ConvNet
from minidqn.nn.layers import MLP


def hard_update(target: MLP | ConvNet, source: MLP | ConvNet) -> None:
    """θ⁻ ← θ: copy the source's parameter values into the target, in place.

    NOTE: this copies values. `target = source` would make the two names one network, and the
    "frozen" target would move with every gradient step.
    """
    _check_same_architecture(target, source)
    target.flat_params[:] = source.flat_params


def soft_update(target: MLP | ConvNet, source: MLP | ConvNet, tau: float) -> None:
    """θ⁻ ← τ·θ + (1 − τ)·θ⁻ (Polyak averaging), in place; τ = 1 is a hard copy.

    Spinning Up writes the same blend as θ⁻ ← ρ·θ⁻ + (1 − ρ)·θ with ρ = 1 − τ (its `polyak`).
    """
    if not 0.0 <= tau <= 1.0:
        raise ValueError(f"tau must be in [0, 1], got {tau}")
    _check_same_architecture(target, source)
    target.flat_params *= 1.0 - tau
    target.flat_params += tau * source.flat_params


def _check_same_architecture(target, source) -> None:
    mine, theirs = target.architecture, source.architecture  # plain metadata, made once per network
    if mine != theirs:
        raise ValueError(f"target and source must have the same architecture; got {mine} and {theirs}")
