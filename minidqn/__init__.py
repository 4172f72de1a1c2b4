"""minidqn: Deep Q-Learning written from scratch in NumPy, to be read line by line."""

__version__ = "0.1.0"
