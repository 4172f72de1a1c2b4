"""A trained agent's greedy policy alone: its Q-network and nothing else, small to store, enough to act.

A DQN checkpoint holds everything needed to go on training, and after 50,000 CartPole steps
almost all of it is the replay memory. To act, a = argmaxₐ Q(s, a) needs only the online
network's weights: `agent.policy()` is that network, `policy.save(path)` writes it (a few tens of
kilobytes), and `GreedyPolicy.load(path)` reads it back, as safely as an agent checkpoint.

    >>> import gymnasium as gym
    >>> from minidqn import DQNAgent
    >>> env = gym.make("CartPole-v1")
    >>> policy = DQNAgent(env.observation_space, env.action_space, seed=0).policy()
    >>> policy.predict(np.zeros((3, 4))).shape, policy.act(np.zeros(4)) in (0, 1)
    ((3,), True)
"""

from __future__ import annotations

import os
from dataclasses import asdict

import numpy as np

from minidqn.agents.config import DQNConfig, config_from_dict
from minidqn.agents.dqn_formats import add_distribution_and_noise, add_observation_shape
from minidqn.agents.value_heads import value_head
from minidqn.common import checkpoint
from minidqn.common.validation import count, is_int
from minidqn.nn.conv import ConvNet
from minidqn.nn.layers import MLP
from minidqn.training import env_api


def q_network(obs_shape: tuple[int, ...], n_actions: int, config: DQNConfig,
              seed: int | np.random.Generator = 0) -> MLP | ConvNet:
    """The Q-network `config` describes, for observations of `obs_shape` and `n_actions` actions:
    an MLP over (D,) vectors, or with conv_layers a ConvNet over (H, W, C) images."""
    outputs = {"dueling": config.dueling, "dueling_type": config.dueling_type, "noisy": config.noisy,
               "noisy_sigma0": config.noisy_sigma0, "atoms": 1 if config.distribution is None else config.num_atoms}
    if config.conv_layers:
        return ConvNet(obs_shape, config.conv_layers, config.hidden_sizes, n_actions, seed=seed, dtype=config.dtype,
                       **outputs)
    return MLP([*obs_shape, *config.hidden_sizes, n_actions], seed=seed, dtype=config.dtype, **outputs)


def observation_shape(meta: dict) -> tuple[int, ...]:
    """The observation shape a saved agent or policy records, checked: 1 to 3 positive integers."""
    shape = meta["obs_shape"]
    if not (isinstance(shape, list) and 1 <= len(shape) <= 3 and all(is_int(n) and n >= 1 for n in shape)):
        raise ValueError(f"obs_shape must list 1 to 3 positive integers, got {shape!r}")
    return tuple(int(n) for n in shape)


class GreedyPolicy:
    """a = argmaxₐ Q(s, a) with a trained Q-network; `config` is the agent's that trained it."""

    FORMAT = 3  # the file format version this class writes

    def __init__(self, network: MLP | ConvNet, config: DQNConfig):
        self.network, self.config = network, config
        self.head = value_head(config)  # Q from the network's outputs (minidqn.agents.value_heads)
        network.mean_weights()  # noisy layers act on their mean weights
        self.obs_dim, self.n_actions = network.sizes[0], network.sizes[-1]
        self.obs_shape = network.image_shape if isinstance(network, ConvNet) else (self.obs_dim,)

    def q_values(self, observations) -> np.ndarray:
        """Q(s, ·): (B, *obs_shape) -> (B, A), or one observation -> (A,)."""
        x, single = env_api.batch(observations, self.obs_shape, self.network.dtype)  # (B, D)
        q = self.head.q_values(self.network(x))  # (B, A)
        return q[0] if single else q

    def predict(self, observations) -> np.ndarray:
        """The greedy actions: (B, *obs_shape) -> (B,) integers, or one observation -> a 0-d array."""
        return self.q_values(observations).argmax(axis=-1)

    def act(self, obs) -> int:
        """The greedy action for one observation: a policy for minidqn.training.evaluation."""
        return int(self.predict(np.asarray(obs).reshape(self.obs_shape)))

    def save(self, path: str | os.PathLike) -> None:
        """Write the network and the config to one .npz at exactly `path`, atomically."""
        meta, arrays = checkpoint.pack({"online": self.network.state()})
        meta.update(config=asdict(self.config), obs_shape=list(self.obs_shape), n_actions=self.n_actions)
        checkpoint.write_checkpoint(path, f"minidqn.GreedyPolicy/{self.FORMAT}", meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> GreedyPolicy:
        """The policy saved at `path`; a CheckpointError saying why if the file is not one."""
        meta, arrays = checkpoint.read_checkpoint(path, "GreedyPolicy", cls.FORMAT,
                                                  {1: add_observation_shape, 2: add_distribution_and_noise})
        with checkpoint.refusing(path, "GreedyPolicy"):
            config = config_from_dict(DQNConfig, meta["config"])
            shape, A = observation_shape(meta), count(meta, "n_actions", 1)
            config.check_network(shape, A)  # before anything is allocated
            network = q_network(shape, A, config)
            checkpoint.load_parts({"online": network}, meta, arrays)
        return cls(network, config)
