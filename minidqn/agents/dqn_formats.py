"""Older DQNAgent checkpoint formats, and how each is brought up to the current one.

`DQNAgent.load` reads a file of format v through UPGRADES[v], UPGRADES[v + 1], ... (minidqn.
checkpoint.read_checkpoint); an upgrade turns (meta, arrays) of version v into those of v + 1,
so a file never has to be re-saved to stay readable. A version with no path is refused with
the reason in WHY_NOT.
"""

from __future__ import annotations

import numpy as np

from minidqn.agents.config import DQNConfig


def _upgrade_2_to_3(meta: dict, arrays: dict) -> tuple[dict, dict]:
    """Version 3 added DQNConfig.dueling; every version-2 agent had the plain Q head."""
    meta["config"].setdefault("dueling", False)
    return meta, arrays


def _upgrade_3_to_4(meta: dict, arrays: dict) -> tuple[dict, dict]:
    """Version 4 counts both schedules in env steps (exploration_steps and lr_decay_steps replace
    exploration_fraction of the first train() call, whose length was saved as `horizon`) and
    stores each part's state under the part's name. An agent saved before its first train()
    had no horizon yet, and takes today's defaults."""
    config, horizon = meta["config"], meta.pop("horizon")
    fraction = config.pop("exploration_fraction")
    config["exploration_steps"] = max(1, int(fraction * horizon)) if horizon else DQNConfig.exploration_steps
    config["lr_decay_steps"] = horizon or DQNConfig.lr_decay_steps
    network = {"sizes": [meta["obs_dim"], *config["hidden_sizes"], meta["n_actions"]],
               "dueling": config["dueling"], "dtype": config["dtype"]}
    meta.update(online=network, target=network, optimizer={"t": meta.pop("adam_t"), "lr": meta.pop("adam_lr")},
                buffer={"obs_dim": meta.pop("replay_obs_dim")}, n_step={})
    meta["rng_states"] = {"rng": meta["rng_states"]["act"], "replay_rng": meta["rng_states"]["replay"],
                          "env_rng": meta["rng_states"]["env"]}
    arrays = {"online.params": arrays["online"], "target.params": arrays["target"],
              "optimizer.m.0": arrays["adam_m"], "optimizer.v.0": arrays["adam_v"], "buffer.rows": arrays["replay"],
              "n_step.obs": np.zeros(0), "n_step.actions": np.zeros(0, np.int64), "n_step.rewards": np.zeros(0)}
    return meta, arrays


def _upgrade_4_to_5(meta: dict, arrays: dict) -> tuple[dict, dict]:
    """Version 5 added prioritized replay, Boltzmann exploration and keras-rl's dueling
    aggregations; every version-4 agent replayed uniformly, explored ε-greedily and, if dueling,
    subtracted the mean advantage."""
    meta["config"].update(prioritized_replay=False, priority_alpha=0.6, priority_beta_start=0.4,
                          priority_beta_steps=50_000, temperature=1.0, dueling_type="avg")
    for network in ("online", "target"):
        meta[network]["dueling_type"] = "avg"
    return meta, arrays


def add_observation_shape(meta: dict, arrays: dict) -> tuple[dict, dict]:
    """Version 6 (of a GreedyPolicy file: version 2) added convolutional networks
    (DQNConfig.conv_layers) and compact replay (compact_observations), and so stores the observation's shape, (D,) or (H, W, C), where the
    version before stored its length D; every earlier agent had an MLP."""
    meta["config"].update(conv_layers=[], compact_observations=False)
    meta["obs_shape"] = [meta.pop("obs_dim")]
    return meta, arrays


def add_distribution_and_noise(meta: dict, arrays: dict) -> tuple[dict, dict]:
    """Version 7 (of a GreedyPolicy file: version 3) added the return's distribution (C51,
    QR-DQN) and noisy layers; every earlier agent had one Q-value per action and plain layers."""
    meta["config"].update(distribution=None, num_atoms=51, v_min=-10.0, v_max=10.0, noisy=False, noisy_sigma0=0.5)
    return meta, arrays


UPGRADES = {2: _upgrade_2_to_3, 3: _upgrade_3_to_4, 4: _upgrade_4_to_5, 5: add_observation_shape,
            6: add_distribution_and_noise}  # version v -> v + 1
WHY_NOT = {1: "version 1 held only the two networks (no optimizer state, counters, replay buffer or "
              "random generators), so training could not continue exactly from it"}
