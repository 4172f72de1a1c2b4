"""A DQN agent saved whole and read back exactly: what its checkpoint holds, and the checks on reading one.

Each part of the agent (networks, Adam, replay memory, the pending n-step window) turns its own
state into arrays and plain metadata; this module adds the config, the counters and the random
generators' states, and writes them as one archive (minidqn.common.checkpoint). Reading goes the
other way, through the upgrades of older formats (minidqn.agents.dqn_formats), and checks what
no single part can see: that the stored transitions fit this agent's observations and actions.
"""

from __future__ import annotations

import os
from dataclasses import asdict

import numpy as np
from gymnasium import spaces

from minidqn.agents.config import DQNConfig, config_from_dict
from minidqn.agents.dqn_formats import UPGRADES, WHY_NOT
from minidqn.agents.policy import observation_shape
from minidqn.common import checkpoint
from minidqn.common.validation import count

RNG_NAMES = ("rng", "replay_rng", "env_rng")  # exploration (and noisy layers' noise), replay sampling, env resets


def save_agent(agent, path: str | os.PathLike) -> None:
    """Write the agent to one .npz at exactly `path`, atomically."""
    meta, arrays = checkpoint.pack({name: part.state() for name, part in agent.parts().items()})
    meta.update(config=asdict(agent.config), obs_shape=list(agent.obs_shape), n_actions=agent.n_actions,
                seed=agent.seed, num_steps=agent.num_steps, num_updates=agent.num_updates,
                num_episodes=agent.num_episodes,
                # PCG64's state is two 128-bit integers: JSON writes Python ints of any size exactly.
                rng_states={name: getattr(agent, name).bit_generator.state for name in RNG_NAMES})
    checkpoint.write_checkpoint(path, f"minidqn.DQNAgent/{agent.FORMAT}", meta, arrays)


def load_agent(cls: type, path: str | os.PathLike):
    """The agent of class `cls` saved at `path`; a CheckpointError saying why if it is not one."""
    meta, arrays = checkpoint.read_checkpoint(path, "DQNAgent", cls.FORMAT, UPGRADES, WHY_NOT)
    with checkpoint.refusing(path, "DQNAgent"):
        config = config_from_dict(DQNConfig, meta["config"])
        shape, A = observation_shape(meta), count(meta, "n_actions", 1)
        config.check_network(shape, A)  # before the spaces and networks are allocated
        agent = cls(spaces.Box(-np.inf, np.inf, shape, np.float32), spaces.Discrete(A), config, seed=meta["seed"])
        checkpoint.load_parts(agent.parts(), meta, arrays)
        check_stored_transitions(agent, arrays["n_step.obs"], arrays["n_step.actions"])
        for name in ("num_steps", "num_updates", "num_episodes"):
            setattr(agent, name, count(meta, name))
        for name in RNG_NAMES:
            getattr(agent, name).bit_generator.state = meta["rng_states"][name]
    return agent


def check_stored_transitions(agent, pending_obs: np.ndarray, pending_actions: np.ndarray) -> None:
    """ValueError unless the loaded replay memory and a file's pending n-step steps hold the
    agent's observation size and actions 0..A−1 (no single part can see this; each checks the rest)."""
    D, A = agent.obs_dim, agent.n_actions
    if len(agent.buffer) and agent.buffer.obs_dim != D:
        raise ValueError(f"replay rows must have 2D + 3 = {2 * D + 3} columns, got {2 * agent.buffer.obs_dim + 3}")
    if pending_actions.size and pending_obs.shape[1:] != (D,):
        raise ValueError(f"the pending n-step observations must have shape (k, {D}), got {pending_obs.shape}")
    largest = max(agent.buffer.largest_action(), pending_actions.max(initial=0))
    if largest >= A:
        raise ValueError(f"stored actions must be below n_actions = {A}, got {largest:g}")
