"""Progress output of a training run: a line every few seconds, or a line per episode."""

from __future__ import annotations

import time

import numpy as np

from minidqn.history import History


class Progress:
    """Progress output of train(): a line every few seconds (verbose=1) or per episode (2)."""

    def __init__(self, total_steps: int, verbose: int, every_seconds: float = 2.0):
        self.total, self.verbose, self.every = total_steps, verbose, every_seconds
        self.start = self.last = time.perf_counter()
        self.steps = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def _line(self, agent, history: History) -> str:
        elapsed = self.elapsed()
        rate = self.steps / elapsed if elapsed > 0 else 0.0
        recent = history.episode_return[-10:]
        mean = f"{np.mean(recent):7.1f}" if recent else "    n/a"
        left = (self.total - self.steps) / rate if rate > 0 else 0.0
        return (f"step {agent.num_steps:>8,}  episode {agent.num_episodes:>5}  return(last 10) {mean}"
                f"  ε {agent.epsilon():.3f}  {rate:6,.0f} steps/s  {left:5.0f} s left")

    def step(self, agent, history: History) -> None:
        self.steps += 1
        if self.verbose == 1 and self.steps % 256 == 0:  # reading the clock every step costs
            now = time.perf_counter()
            if now - self.last >= self.every:
                self.last = now
                print(self._line(agent, history), flush=True)

    def episode(self, agent, history: History) -> None:
        if self.verbose >= 2:
            print(f"episode {agent.num_episodes:>5}  return {history.episode_return[-1]:7.1f}  "
                  f"length {history.episode_length[-1]:4d}  loss {history.mean_loss[-1]:.4f}  "
                  f"ε {history.epsilon[-1]:.3f}  step {agent.num_steps:,}", flush=True)

    def close(self, agent, history: History) -> None:
        if self.verbose >= 1:
            print(self._line(agent, history).replace(f"{0:5.0f} s left", "done"), flush=True)
