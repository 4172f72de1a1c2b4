"""keras-rl's names for DQN settings, translated: the tutorial minidqn grew from used keras-rl.

    >>> keras_rl_config().hidden_sizes, keras_rl_config().tau
    ((16,), 0.01)
"""

from __future__ import annotations

from minidqn.agents.config import DQNConfig


def keras_rl_target_update(target_model_update: float) -> dict:
    """DQNConfig fields for keras-rl's `target_model_update`: a value ≥ 1 is a hard copy every
    that many steps; a value < 1 is τ of a soft update after every step.

    keras-rl counts the hard-copy interval in env steps, warm-up included; minidqn counts
    gradient steps. With train_freq = gradient_steps = 1 the two differ only by the warm-up.

        >>> keras_rl_target_update(1e-2)
        {'tau': 0.01, 'target_update_interval': 1}
        >>> keras_rl_target_update(10000)
        {'tau': 1.0, 'target_update_interval': 10000}
    """
    if target_model_update <= 0:
        raise ValueError(f"target_model_update must be > 0, got {target_model_update}")
    if target_model_update >= 1:
        return {"tau": 1.0, "target_update_interval": int(target_model_update)}
    return {"tau": float(target_model_update), "target_update_interval": 1}


def keras_rl_config() -> DQNConfig:
    """The agent of the keras-rl CartPole tutorial minidqn grew from, as a DQNConfig.

    The tutorial sets one hidden layer of 16 ReLUs, SequentialMemory(limit=50000),
    nb_steps_warmup=10, target_model_update=1e-2 (soft, τ = 0.01), Adam(lr=1e-3) and
    EpsGreedyQPolicy (a constant ε = 0.1); keras-rl's own defaults fill in the rest: batch 32,
    γ = 0.99, double DQN on, one-step targets, no dueling head (keras-rl's enable_dueling_network
    is off by default), and an unclipped squared TD error (delta_clip = ∞), no gradient clipping.
    It trained for 5,000 steps on CartPole-v0.
    """
    return DQNConfig(hidden_sizes=(16,), buffer_size=50_000, learning_starts=10, lr=1e-3, lr_end=None,
                     batch_size=32, gamma=0.99, n_step=1, loss="mse", max_grad_norm=None, double_dqn=True,
                     dueling=False, exploration="constant", epsilon_end=0.1, **keras_rl_target_update(1e-2))
