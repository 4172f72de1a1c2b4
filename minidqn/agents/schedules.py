"""Schedules: a value (ε for exploration, α for a learning rate) as a function of the step t.

Each schedule is a small frozen object called as `schedule(t)` with t = 0, 1, 2, ... counted in
whatever unit its user counts (environment steps for DQN, episodes for tabular Q-learning).

    >>> LinearSchedule(start=1.0, end=0.1, duration=10)(5)
    0.55
    >>> ExponentialSchedule(start=1.0, end=0.1, decay=0.5)(2)
    0.25
"""

from __future__ import annotations

from dataclasses import dataclass


def _check_in_unit_interval(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")


@dataclass(frozen=True)
class ConstantSchedule:
    """The same value at every step, like keras-rl's EpsGreedyQPolicy(eps=0.1)."""

    value: float

    def __post_init__(self):
        _check_in_unit_interval("value", self.value)

    def __call__(self, t: int) -> float:
        return self.value


@dataclass(frozen=True)
class LinearSchedule:
    """start + (end − start)·min(1, t / duration): a straight line, then flat at `end`."""

    start: float
    end: float
    duration: int

    def __post_init__(self):
        _check_in_unit_interval("start", self.start)
        _check_in_unit_interval("end", self.end)
        if self.duration < 1:
            raise ValueError(f"duration must be a positive number of steps, got {self.duration}")

    def __call__(self, t: int) -> float:
        return self.start + (self.end - self.start) * min(1.0, t / self.duration)


@dataclass(frozen=True)
class ExponentialSchedule:
    """max(end, start·decayᵗ): multiplied by `decay` every step until it reaches `end`."""

    start: float
    end: float
    decay: float

    def __post_init__(self):
        _check_in_unit_interval("start", self.start)
        _check_in_unit_interval("end", self.end)
        if not 0.0 < self.decay < 1.0:
            raise ValueError(f"decay must be in (0, 1), got {self.decay}")

    def __call__(self, t: int) -> float:
        return max(self.end, self.start * self.decay**t)
