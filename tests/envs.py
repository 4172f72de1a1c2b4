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


class SpotEnv(gym.Env):
    """An image env: one lit pixel in an H×W×1 grid, in the left or the right half at random. Action
    0 says "left", 1 says "right"; the right answer pays 1, the wrong one 0, and the episode ends.

    The correct values: Q(s, correct) = 1 and Q(s, wrong) = 0; a random policy scores 0.5, and
    only a network that reads where the pixel is scores 1.
    """

    action_space = spaces.Discrete(2)

    def __init__(self, height: int = 5, width: int = 6):
        self.observation_space = spaces.Box(0.0, 1.0, (height, width, 1), np.float32)
        self.height, self.width = height, width
        self.side = 0

    def _image(self) -> np.ndarray:
        image = np.zeros((self.height, self.width, 1), np.float32)
        half = self.width // 2
        column = self.np_random.integers(0, half) + (half if self.side else 0)
        image[self.np_random.integers(self.height), column, 0] = 1.0
        return image

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.side = int(self.np_random.integers(2))
        return self._image(), {}

    def step(self, action):
        reward = 1.0 if int(action) == self.side else 0.0
        return self._image(), reward, True, False, {}
