"""Measuring a policy: play episodes with it, and measure an agent every K env steps while it trains.

A policy here is any function obs -> action: `agent.act` (greedy by default), a fixed table
`lambda obs: policy[obs]`, or a human's choice. The env is used as given, so its own time limit
applies: pass the `gym.make` env, not `env.unwrapped`.

    >>> import gymnasium as gym
    >>> env = gym.make("FrozenLake-v1", is_slippery=False)
    >>> right_then_down = [2, 2, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0]  # one action per cell
    >>> evaluate(env, lambda s: right_then_down[s], episodes=3, seed=0)
    array([1., 1., 1.])
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from minidqn.common.validation import is_int
from minidqn.training import env_api


def play_episode(env, policy: Callable, seed: int | None = None, max_steps: int | None = None,
                 record: Callable | None = None, gamma: float = 1.0) -> tuple[float, int, float]:
    """Play one episode with a = policy(obs) until the env terminates or truncates it (or after
    `max_steps`); return its undiscounted return, its length, and its discounted return
    Σₜ γᵗ rₜ (the same as the first with γ = 1). `record(env)`, if given, is called after the
    reset and after every step (to keep frames or states). What the env returns is checked by
    minidqn.training.env_api."""
    obs = env_api.reset(env, seed=seed, at="in evaluation")
    if record is not None:
        record(env)
    total, discounted, discount, length, done = 0.0, 0.0, 1.0, 0, False
    while not done and (max_steps is None or length < max_steps):
        obs, reward, terminated, truncated = env_api.step(env, policy(obs), at=f"at step {length + 1:,} of an evaluation episode")
        total += reward
        discounted += discount * reward
        discount *= gamma
        length += 1
        done = terminated or truncated
        if record is not None:
            record(env)
    return total, length, discounted


def evaluate(env, policy: Callable, episodes: int, seed: int, max_steps: int = 100_000) -> np.ndarray:
    """The returns of `episodes` episodes of `policy`: (episodes,). The first reset is seeded with
    `seed` and the later ones continue the env's random stream, so the same seed replays the same
    episodes. On FrozenLake, whose only reward is 1 at the goal, the mean is the success rate.

    An episode still running after `max_steps` steps is cut there and counted with the return it
    has: an env without a time limit, under a policy that never fails, would otherwise never
    return. Pass the `gym.make` env, whose time limit (500 steps for CartPole-v1) comes first."""
    for name, value in (("episodes", episodes), ("max_steps", max_steps)):
        if not (is_int(value) and value >= 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (seed is None or (is_int(seed) and seed >= 0)):
        raise ValueError(f"seed must be an integer ≥ 0 or None, got {seed!r}")
    return np.array([play_episode(env, policy, seed if i == 0 else None, max_steps)[0] for i in range(episodes)])


def value_against_return(env, policy: Callable, value: Callable, gamma: float, episodes: int,
                         seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For `episodes` episodes of `policy`, seeded as `evaluate` seeds them: their returns, their
    discounted returns Σₜ γᵗ rₜ from the first state, and value(s₀), the agent's own prediction
    of that discounted return (for DQN, maxₐ Q(s₀, a)): three arrays of shape (episodes,).

    Set side by side they show over- or under-estimation. The discounted return stops at the
    env's time limit T, where the agent's value goes on: with γ = 0.995 and T = 500, γᵀ = 0.08 of
    the value lies beyond the last step, so a perfect value is up to that much above."""
    returns, discounted, predicted = np.zeros(episodes), np.zeros(episodes), np.zeros(episodes)
    first = {}  # the episode's first state, as the policy first sees it

    def acting(obs):
        first.setdefault("obs", obs)
        return policy(obs)

    for i in range(episodes):
        first.clear()
        returns[i], _, discounted[i] = play_episode(env, acting, seed if i == 0 else None, gamma=gamma)
        predicted[i] = value(first["obs"])
    return returns, discounted, predicted


def success_rate(returns: np.ndarray, goal: float) -> float:
    """The fraction of episodes whose return reached `goal` (CartPole-v1: 475; FrozenLake: 1)."""
    return float(np.mean(np.asarray(returns) >= goal))


class EvaluateEvery:
    """A train() callback that measures the agent every `every` env steps, while it trains.

    It runs at episode ends (where train() calls back), so each measurement is taken at the first
    episode end at or after a multiple of `every`, and credited to every multiple passed since the
    last one: `points[k]` is the multiple, `steps[k]` the env step it was really taken at, and
    `values[k]` what `measure(agent, step)` returned. By default that is the greedy mean return of
    `episodes` episodes on `env`, seeded by `seed + step`. `eval_seconds` is the time spent
    measuring and `train_seconds[k]` the time spent training until steps[k], both counted from
    the callback's creation, so create it just before train(). For an agent that has trained
    before, `start` (its num_steps) makes the first measurement the first multiple after it.
    """

    def __init__(self, every: int, env=None, episodes: int = 10, seed: int = 10_000,
                 measure: Callable | None = None, verbose: bool = False, start: int = 0):
        if not (is_int(every) and every >= 1):
            raise ValueError(f"every must be a positive integer (env steps), got {every!r}")
        if measure is None and env is None:
            raise ValueError("give an env to evaluate on, or a measure(agent, step) function")
        self.every, self.verbose = every, verbose
        self.measure = measure or (lambda agent, step: float(agent.evaluate(env, episodes, seed=seed + step).mean()))
        self.points, self.steps, self.values, self.train_seconds = [], [], [], []
        self.next_point = (start // every + 1) * every  # the first multiple after `start` (a resumed run's step)
        self.eval_seconds = 0.0
        self.start = time.perf_counter()

    def __call__(self, agent, episode) -> bool:
        """At an episode's end (the callback of train()): measure if a multiple of `every` is due."""
        return self.at(agent, episode.env_steps)

    def at(self, agent, step: int) -> bool:
        """Measure at env step `step` if a multiple of `every` is due (also usable outside train())."""
        if step >= self.next_point:
            started = time.perf_counter()
            trained = started - self.start - self.eval_seconds  # seconds of training so far
            value = self.measure(agent, step)
            self.eval_seconds += time.perf_counter() - started
            while step >= self.next_point:
                self.points.append(self.next_point)
                self.next_point += self.every
                self.steps.append(step)
                self.values.append(value)
                self.train_seconds.append(trained)
            if self.verbose:
                print(f"  evaluation at env step {step:,}: {value:.1f}", flush=True)
        return True

    def first_step_at_least(self, threshold: float) -> int | None:
        """The env step of the first measurement ≥ threshold, or None if none reached it."""
        return next((s for s, v in zip(self.steps, self.values) if v >= threshold), None)
