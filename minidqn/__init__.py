"""minidqn: Deep Q-Learning written from scratch in NumPy, to be read line by line."""

from minidqn.dqn import DQNAgent, DQNConfig

__all__ = ["DQNAgent", "DQNConfig"]
__version__ = "0.1.0"
