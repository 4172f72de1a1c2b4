"""minidqn: Deep Q-Learning written from scratch in NumPy, to be read line by line.

The package is cut into parts that stack in layers; a part imports only the parts below it, and
never the command line or the pictures above it (tests/test_layout.py checks every import,
lazy ones included, against the line "May import:" of each part's docstring):

    cli          the `minidqn` command line, its presets and run folders
    pictures     matplotlib: curves, Q-tables, animations, diagrams      experiments   many seeds and settings
    agents       DQN, tabular Q-learning, their configs and parts
    nn           layers, losses, optimizers     memory   replay     training   env boundary, records, the run
    common       value checks, files, checkpoint archives             stats   IQM, bootstrap CIs

docs/code_map.md draws the map. The names below are the ones a learner imports first; every
other name lives in its part (`from minidqn.memory.sum_tree import SumTree`).
"""

from minidqn.agents.config import DQNConfig, QLearningConfig
from minidqn.agents.discretizer import Discretizer
from minidqn.agents.dqn import DQNAgent
from minidqn.agents.policy import GreedyPolicy
from minidqn.agents.tabular import QLearningAgent
from minidqn.agents.value_iteration import value_iteration
from minidqn.common.checkpoint import CheckpointError
from minidqn.memory.compact import CompactReplayBuffer
from minidqn.memory.deque_replay import ReplayBuffer
from minidqn.memory.prioritized import PrioritizedReplayBuffer
from minidqn.memory.ring import RingReplayBuffer
from minidqn.nn.conv import ConvNet
from minidqn.nn.layers import MLP
from minidqn.nn.losses import huber_loss, mse_loss
from minidqn.nn.optim import SGD, Adam
from minidqn.training.history import History
from minidqn.training.run import DivergenceError

__all__ = [
    "MLP", "SGD", "Adam", "CheckpointError", "CompactReplayBuffer", "ConvNet", "DQNAgent", "DQNConfig", "Discretizer",
    "DivergenceError", "GreedyPolicy", "History", "PrioritizedReplayBuffer", "QLearningAgent", "QLearningConfig",
    "ReplayBuffer", "RingReplayBuffer", "huber_loss", "mse_loss", "value_iteration",
]
__version__ = "0.1.0"
