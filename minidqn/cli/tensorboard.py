"""TensorBoard event files in a run folder, under the keys Stable-Baselines3 users know, when the sweep extra is installed.

`tensorboard --logdir runs/` then shows every run below it side by side, the trials of a sweep
included. The events are written by tensorboardX, which needs neither torch nor TensorFlow;
without it (the base install) a run writes no events and says nothing of it.

    key                     what, at the env step where an episode ends
    rollout/ep_rew_mean     mean return of the last 100 training episodes
    rollout/ep_len_mean     mean length of the last 100 training episodes
    train/loss              mean TD loss of the episode's gradient steps
    train/q_mean            mean predicted Q(s, a) of the episode's batches
    train/epsilon           ε of the exploration schedule
    train/learning_rate     Adam's step size
    time/fps                env steps per second since the run (or the resume) started
"""

from __future__ import annotations

import importlib.util
import math
import time
from collections import deque
from pathlib import Path

FOLDER = "tensorboard"  # inside the run folder


class TensorBoardEpisodes:
    """A train() callback that writes the keys above at each episode's end."""

    def __init__(self, folder: Path):
        from tensorboardX import SummaryWriter

        self.writer = SummaryWriter(logdir=str(folder / FOLDER))
        self.returns, self.lengths = deque(maxlen=100), deque(maxlen=100)
        self.start, self.first_step = time.perf_counter(), None

    def __call__(self, agent, episode) -> bool:
        step = episode.env_steps
        if self.first_step is None:
            self.first_step = step - episode.episode_length
        self.returns.append(episode.episode_return)
        self.lengths.append(episode.episode_length)
        values = {"rollout/ep_rew_mean": sum(self.returns) / len(self.returns),
                  "rollout/ep_len_mean": sum(self.lengths) / len(self.lengths),
                  "train/loss": episode.mean_loss, "train/q_mean": episode.mean_q, "train/epsilon": episode.epsilon,
                  "train/learning_rate": episode.learning_rate,
                  "time/fps": (step - self.first_step) / max(time.perf_counter() - self.start, 1e-9)}
        for key, value in values.items():
            if math.isfinite(value):  # no loss yet before the first gradient step: nothing to draw
                self.writer.add_scalar(key, value, step)
        return True

    def close(self) -> None:
        self.writer.close()


def tensorboard_for(folder: Path) -> TensorBoardEpisodes | None:
    """The writer for the run folder `folder`, or None if tensorboardX is not installed."""
    return TensorBoardEpisodes(folder) if importlib.util.find_spec("tensorboardX") is not None else None
