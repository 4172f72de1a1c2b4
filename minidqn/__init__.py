"""minidqn: Deep Q-Learning written from scratch in NumPy, to be read line by line."""

import os

# NOTE: one BLAS thread unless the user chose otherwise. The matrices here are tiny (a batch of 64
# by a few hundred units), so a second OpenBLAS thread only spins against the env and the other
# processes: 5,000 steps of the LunarLander preset took 8.4 times the CPU time (5.8 times the wall
# time) with OpenBLAS's own thread count on a busy 2-core machine, and CartPole was unchanged. It
# must be set before NumPy is first imported, so it comes before everything else here.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from minidqn.agents.config import DQNConfig, QLearningConfig
from minidqn.agents.dqn import DQNAgent
from minidqn.agents.tabular import QLearningAgent
from minidqn.common.checkpoint import CheckpointError
from minidqn.training.run import DivergenceError

__all__ = ["CheckpointError", "DQNAgent", "DQNConfig", "DivergenceError", "QLearningAgent", "QLearningConfig"]
__version__ = "0.1.0"
