"""minidqn: Deep Q-Learning written from scratch in NumPy, to be read line by line."""

from minidqn.checkpoint import CheckpointError, DivergenceError
from minidqn.dqn import DQNAgent, DQNConfig

__all__ = ["CheckpointError", "DQNAgent", "DQNConfig", "DivergenceError"]
__version__ = "0.1.0"
