"""minidqn: Deep Q-Learning written from scratch in NumPy, to be read line by line."""

from minidqn.checkpoint import CheckpointError
from minidqn.config import DQNConfig, QLearningConfig
from minidqn.dqn import DQNAgent
from minidqn.tabular import QLearningAgent
from minidqn.training import DivergenceError

__all__ = ["CheckpointError", "DQNAgent", "DQNConfig", "DivergenceError", "QLearningAgent", "QLearningConfig"]
__version__ = "0.1.0"
