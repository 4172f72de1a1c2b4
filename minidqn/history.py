"""The record of a training run, one row per finished episode, writable as CSV."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field, fields


class EpisodeTable:
    """Behaviour shared by per-episode records: a dataclass whose fields are equal-length lists."""

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
        return len(getattr(self, self.columns()[0]))

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write a header row of column names, then one row per episode."""
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(self.columns())
            writer.writerows(zip(*(getattr(self, name) for name in self.columns())))


@dataclass
class History(EpisodeTable):
    """Per-episode columns of a DQN training run, each a list with one entry per episode."""

    episode_return: list[float] = field(default_factory=list)  # Σ rewards of the episode
    episode_length: list[int] = field(default_factory=list)  # env steps in the episode
    epsilon: list[float] = field(default_factory=list)  # ε at the episode's last step
    mean_loss: list[float] = field(default_factory=list)  # mean TD loss of its gradient steps (nan: none)
    env_steps: list[int] = field(default_factory=list)  # training env steps so far, at its end
    wall_time: list[float] = field(default_factory=list)  # seconds since train() began, at its end
