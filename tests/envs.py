"""Tiny environments whose correct values can be worked out by hand, shared by the tests."""

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class OneStateEnv(gym.Env):
    """One state, observation [0.5], every action pays `reward`. After `length` steps the episode
    ends by termination or, with `truncate=True`, by a time limit that leaves the state unchanged.

    The correct values (reward 1): Q = 1 when each step terminates (no future), and
    Q = 1 + γQ = 1/(1 − γ) when truncated, because the state after the time limit is the same
    state, with the same future.
    """

    observation_space = spaces.Box(-1.0, 1.0, (1,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, truncate: bool, length: int = 1, reward: float = 1.0):
        self.truncate, self.length, self.reward, self.t = truncate, length, reward, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.5], np.float32), {}

    def step(self, action):
        self.t += 1
        end = self.t >= self.length
        return np.array([0.5], np.float32), self.reward, end and not self.truncate, end and self.truncate, {}
