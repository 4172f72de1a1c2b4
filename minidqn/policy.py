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

from minidqn import checkpoint, env_api
from minidqn.config import DQNConfig
from minidqn.nn import MLP
from minidqn.validation import count


class GreedyPolicy:
    """a = argmaxₐ Q(s, a) with a trained Q-network; `config` is the agent's that trained it."""

    FORMAT = 1  # the file format version this class writes

    def __init__(self, network: MLP, config: DQNConfig):
        self.network, self.config = network, config
        self.obs_dim, self.n_actions = network.sizes[0], network.sizes[-1]

    def q_values(self, observations) -> np.ndarray:
        """Q(s, ·): (B, D) -> (B, A), or (D,) -> (A,)."""
        x, single = env_api.batch(observations, self.obs_dim, self.network.dtype)  # (B, D)
        q = self.network.predict(x)  # (B, A)
        return q[0] if single else q

    def predict(self, observations) -> np.ndarray:
        """The greedy actions: (B, D) -> (B,) integers, or (D,) -> a 0-d array."""
        return self.q_values(observations).argmax(axis=-1)

    def act(self, obs) -> int:
        """The greedy action for one observation (D,): a policy for minidqn.evaluation."""
        return int(self.predict(np.asarray(obs).reshape(self.obs_dim)))

    def save(self, path: str | os.PathLike) -> None:
        """Write the network and the config to one .npz at exactly `path`, atomically."""
        meta, arrays = checkpoint.pack({"online": self.network.state()})
        meta.update(config=asdict(self.config), obs_dim=self.obs_dim, n_actions=self.n_actions)
        checkpoint.write_checkpoint(path, f"minidqn.GreedyPolicy/{self.FORMAT}", meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> GreedyPolicy:
        """The policy saved at `path`; a CheckpointError saying why if the file is not one."""
        meta, arrays = checkpoint.read_checkpoint(path, "GreedyPolicy", cls.FORMAT)
        with checkpoint.refusing(path, "GreedyPolicy"):
            config = checkpoint.config_from_dict(DQNConfig, meta["config"])
            D, A = count(meta, "obs_dim", 1), count(meta, "n_actions", 1)
            config.check_network(D, A)  # before anything is allocated
            network = MLP([D, *config.hidden_sizes, A], dtype=config.dtype, dueling=config.dueling,
                          dueling_type=config.dueling_type)
            checkpoint.load_parts({"online": network}, meta, arrays)
        return cls(network, config)
