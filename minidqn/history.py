"""The record of a training run, one row per finished episode, writable as CSV."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field, fields


@dataclass
class History:
    """Per-episode columns of a training run, each a list with one entry per episode."""

    episode_return: list[float] = field(default_factory=list)  # Σ rewards of the episode
    episode_length: list[int] = field(default_factory=list)  # env steps in the episode
    epsilon: list[float] = field(default_factory=list)  # ε at the episode's last step
    mean_loss: list[float] = field(default_factory=list)  # mean TD loss of its gradient steps (nan: none)
    env_steps: list[int] = field(default_factory=list)  # training env steps so far, at its end
    wall_time: list[float] = field(default_factory=list)  # seconds since train() began, at its end

    def append(self, episode_return, episode_length, epsilon, mean_loss, env_steps, wall_time) -> None:
        for name, value in zip(self.columns(), (episode_return, episode_length, epsilon, mean_loss,
                                                env_steps, wall_time)):
            getattr(self, name).append(value)

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def __len__(self) -> int:
        return len(self.episode_return)

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write a header row of column names, then one row per episode."""
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(self.columns())
            writer.writerows(zip(*(getattr(self, name) for name in self.columns())))
