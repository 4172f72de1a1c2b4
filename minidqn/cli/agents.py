"""The two agents the command line trains, DQN and tabular Q-learning, made, loaded and acted with alike.

`minidqn train ENV_ID` trains DQN; `minidqn train ENV_ID --agent tabular` trains a Q-table
(minidqn.agents.tabular) into the same kind of run folder, so that the comparison of
docs/tabular.md can be run from the shell. Which agent a folder holds is read from its checkpoint's
format tag, never from a name in the folder. A Discrete observation reaches the table as the state
itself; a Box observation is cut into bins (minidqn.agents.discretizer): CartPole's measured grid,
or `--bins` per dimension of a space with finite bounds.

    >>> import gymnasium as gym
    >>> agent = make_agent(gym.make("FrozenLake-v1"), QLearningConfig(), seed=0)
    >>> agent.n_states, agent.n_actions
    (16, 4)
"""

from __future__ import annotations

import os

import gymnasium as gym
import numpy as np

from minidqn.agents.config import DQNConfig, QLearningConfig
from minidqn.agents.discretizer import Discretizer
from minidqn.agents.dqn import DQNAgent
from minidqn.agents.policy import GreedyPolicy
from minidqn.agents.tabular import QLearningAgent
from minidqn.common import checkpoint

AGENT_NAMES = {"dqn": DQNConfig, "tabular": QLearningConfig}  # --agent NAME: its config class


def make_agent(env: gym.Env, config: DQNConfig | QLearningConfig, seed: int,
               bins: int | None = None) -> DQNAgent | QLearningAgent:
    """A new agent for `env`: DQN for a DQNConfig, a Q-table for a QLearningConfig (over `bins`
    bins per dimension when the observations are a bounded Box)."""
    if isinstance(config, DQNConfig):
        if bins is not None:
            raise ValueError("--bins cuts observations into a grid for the tabular agent; DQN reads them whole")
        return DQNAgent(env.observation_space, env.action_space, config, seed=seed)
    space = env.observation_space
    discretizer = None
    if isinstance(space, gym.spaces.Box):
        if env.spec is not None and env.spec.id.startswith("CartPole") and bins is None:
            discretizer = Discretizer.for_cartpole()  # the grid docs/tabular.md measured
        elif np.isfinite(space.low).all() and np.isfinite(space.high).all():
            discretizer = Discretizer(space.low, space.high, 10 if bins is None else bins)
        else:
            raise ValueError(f"the tabular agent needs a grid, and {space} is unbounded: it learns on Discrete "
                             "observations, CartPole's measured grid, or a Box with finite bounds cut by --bins")
    return QLearningAgent(space, env.action_space, config, seed=seed, discretizer=discretizer)


def load_agent(path: str | os.PathLike) -> DQNAgent | QLearningAgent:
    """The agent saved at `path`, of the class its format tag names."""
    kind = checkpoint.kind_of(path)
    agents = {"DQNAgent": DQNAgent, "QLearningAgent": QLearningAgent}
    if kind not in agents:
        raise checkpoint.refuse(path, "agent", f"it holds a {kind}, not an agent to train on")
    return agents[kind].load(path)


def one_hot_states(agent_or_policy) -> bool:
    """Whether this agent sees a Discrete state as a one-hot vector (a network does; a table
    indexes the state itself)."""
    return not isinstance(agent_or_policy, (QLearningAgent, TablePolicy))


class TablePolicy:
    """A Q-table's greedy policy π(s) = argmaxₐ Q(s,a), acting on observations as a GreedyPolicy
    does; ties are broken once, by a seeded draw, so acting never moves the agent's generator."""

    def __init__(self, agent: QLearningAgent, seed: int = 0):
        self.agent = agent
        self.table = agent.greedy_policy(np.random.default_rng(seed)).tolist()  # (S,) as a list: fast to index

    def act(self, obs) -> int:
        return self.table[self.agent.state_index(obs, "in evaluation")]


def greedy_policy(agent: DQNAgent | QLearningAgent) -> GreedyPolicy | TablePolicy:
    """What acts greedily for `agent` now, with `act(obs)`: its network's copy, or its table's argmax."""
    return TablePolicy(agent) if isinstance(agent, QLearningAgent) else agent.policy()


def value_function(agent: DQNAgent | QLearningAgent):
    """obs -> maxₐ Q(obs, a), the agent's prediction of the discounted return from obs: a row of
    its table, or the max of its network's outputs."""
    if isinstance(agent, QLearningAgent):
        return lambda obs: float(agent.q[agent.state_index(obs, "in evaluation")].max())
    return lambda obs: agent.q_values(obs).max()
