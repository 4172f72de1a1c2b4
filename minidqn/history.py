"""The record of a training run, one row per finished episode, writable as CSV."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field, fields


@dataclass
class History:
    """Per-episode columns of a training run (DQN or tabular), each a list with one entry per
    episode finished in one train() call."""

    episode: list[int] = field(default_factory=list)  # the episode's number, counted over all train() calls
    episode_return: list[float] = field(default_factory=list)  # Σ rewards of the episode, undiscounted
    episode_length: list[int] = field(default_factory=list)  # env steps in the episode
    env_steps: list[int] = field(default_factory=list)  # training env steps so far, at its end
    epsilon: list[float] = field(default_factory=list)  # ε at the episode's last step
    learning_rate: list[float] = field(default_factory=list)  # Adam's lr (DQN) or α (tabular) at its end
    mean_loss: list[float] = field(default_factory=list)  # mean TD loss of its updates (tabular: δ²; nan: none)
    mean_q: list[float] = field(default_factory=list)  # mean predicted Q(sᵢ, aᵢ) of its updates' batches (nan: none)
    max_q: list[float] = field(default_factory=list)  # largest predicted Q(sᵢ, aᵢ) in them: over-estimation shows here
    wall_time: list[float] = field(default_factory=list)  # seconds since train() began, at its end

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def append(self, *values) -> None:
        """Add one episode: one value per column, in column order."""
        if len(values) != len(self.columns()):
            raise ValueError(f"expected {len(self.columns())} values ({self.columns()}), got {len(values)}")
        for name, value in zip(self.columns(), values):
            getattr(self, name).append(value)

    def __len__(self) -> int:
        return len(self.episode)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write a header row of column names, then one row per episode."""
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(self.columns())
            writer.writerows(zip(*(getattr(self, name) for name in self.columns())))
