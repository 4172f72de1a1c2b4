"""Where `minidqn tune` looks: the DQNConfig values it may propose, beside the presets they would replace.

The space follows the RL Baselines3 Zoo's for DQN (its `sample_dqn_params`), in minidqn's terms and
in proportion to the budget where a field counts env steps, so that one space serves a 50,000-step
and a 400,000-step study: ε falls over a fraction of the budget, the step size decays over all of
it, learning starts after a fraction of it. Optuna's trial draws each value; the preset's config
supplies every field the space leaves alone.

    >>> import optuna
    >>> trial = optuna.trial.FixedTrial({"lr": 1e-3, "lr_decay": True, "batch_size": 64, "buffer_size": 50_000, "gamma": 0.99,
    ...     "exploration_fraction": 0.1, "epsilon_end": 0.05, "learning_starts_fraction": 0.02, "n_step": 3,
    ...     "tau": 0.01, "train_freq": 1, "net": "medium", "loss": "huber", "double_dqn": True, "dueling": True})
    >>> changes = sample_dqn(trial, steps=50_000)
    >>> changes["exploration_steps"], changes["hidden_sizes"], changes["target_update_interval"]
    (5000, (128, 128), 1)
"""

from __future__ import annotations

NETS = {"small": (64, 64), "medium": (128, 128), "large": (256, 256)}


def sample_dqn(trial, steps: int) -> dict:
    """The DQNConfig fields this trial sets, drawn from the space above, for a budget of `steps`."""
    tau = trial.suggest_categorical("tau", [0.005, 0.01, 0.05, 1.0])  # 1.0: hard copies, every C updates
    train_freq = trial.suggest_categorical("train_freq", [1, 4, 8])
    return {
        "lr": trial.suggest_float("lr", 1e-5, 1e-2, log=True),
        "lr_end": 1e-5 if trial.suggest_categorical("lr_decay", [True, False]) else None,  # to 1e-5, or constant
        "lr_decay_steps": steps,
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128, 256]),
        "buffer_size": trial.suggest_categorical("buffer_size", [10_000, 50_000, 100_000]),
        "gamma": trial.suggest_categorical("gamma", [0.95, 0.98, 0.99, 0.995, 0.999]),
        "exploration_steps": max(1, round(steps * trial.suggest_float("exploration_fraction", 0.05, 0.5))),
        "epsilon_end": trial.suggest_float("epsilon_end", 0.0, 0.2),
        "learning_starts": round(steps * trial.suggest_categorical("learning_starts_fraction", [0.0, 0.02, 0.1])),
        "n_step": trial.suggest_categorical("n_step", [1, 3, 5]),
        "tau": tau,
        "target_update_interval": 1 if tau < 1.0 else trial.suggest_categorical("hard_copy_every", [100, 500, 1000]),
        "train_freq": train_freq,
        "gradient_steps": train_freq,  # one gradient step per env step on average, as the Zoo's subsampling of 1
        "hidden_sizes": NETS[trial.suggest_categorical("net", list(NETS))],
        "loss": trial.suggest_categorical("loss", ["mse", "huber"]),
        "double_dqn": trial.suggest_categorical("double_dqn", [True, False]),
        "dueling": trial.suggest_categorical("dueling", [True, False]),
    }
