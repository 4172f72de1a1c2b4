"""Tabular Q-learning (Watkins, 1989): one table entry Q(s,a) per state and action, no network.

The agent works on environments with `Discrete` observations and actions (FrozenLake-v1,
Taxi-v4, CliffWalking-v1), or on a `Box` observation cut into bins by a `Discretizer` (CartPole).
S is the number of states (table rows) and A the number of actions. Each step of `train` is

    Q(s,a) ← Q(s,a) + α·[r + γ·maxₐ′ Q(s′,a′)·(1 − terminated) − Q(s,a)]

with ε-greedy behaviour; α and ε follow schedules counted in episodes. Value iteration on the
environment's own model (minidqn.value_iteration) gives the exact Q* to compare against; the
derivation and the measured results are in docs/tabular.md, the demo is demos/frozenlake.py.

    >>> env = gym.make("FrozenLake-v1")
    >>> agent = QLearningAgent(env.observation_space, env.action_space, seed=0)
    >>> agent.q.shape  # (S, A), all zeros until trained
    (16, 4)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from minidqn import checkpoint
from minidqn.discretizer import Discretizer
from minidqn.history import EpisodeTable
from minidqn.schedules import LinearSchedule
from minidqn.validation import check, is_int, is_real, make_plain
from minidqn.value_iteration import evaluate_policy, value_iteration

__all__ = [
    "Discretizer",
    "QLearningAgent",
    "QLearningConfig",
    "TrainingHistory",
    "evaluate_policy",
    "value_iteration",
]


@dataclass(frozen=True)
class QLearningConfig:
    """Hyperparameters of tabular Q-learning; both schedules are straight lines over episodes."""

    gamma: float = 0.99  # γ, discount factor
    alpha_start: float = 0.1  # α at episode 0, the learning rate (step size)
    alpha_end: float = 0.01  # α after alpha_decay_episodes, then constant
    alpha_decay_episodes: int = 20_000  # episodes over which α falls linearly to alpha_end
    epsilon_start: float = 1.0  # ε at episode 0, the probability of a random action
    epsilon_end: float = 0.05  # ε after epsilon_decay_episodes, then constant
    epsilon_decay_episodes: int = 10_000  # episodes over which ε falls linearly to epsilon_end

    def __post_init__(self):
        check(self, is_real(self.gamma) and 0.0 <= self.gamma <= 1.0, "gamma", "in [0, 1]")
        for name in ("alpha_start", "alpha_end"):
            value = getattr(self, name)
            check(self, is_real(value) and 0.0 < value <= 1.0, name, "in (0, 1]")
        for name in ("epsilon_start", "epsilon_end"):
            value = getattr(self, name)
            check(self, is_real(value) and 0.0 <= value <= 1.0, name, "in [0, 1]")
        for name in ("alpha_decay_episodes", "epsilon_decay_episodes"):
            value = getattr(self, name)
            check(self, is_int(value) and value >= 1, name, "a positive integer (episodes)")
        make_plain(self)  # NumPy scalars become Python ones, for the JSON of save()


@dataclass
class TrainingHistory(EpisodeTable):
    """One row per training episode, kept as columns; `to_csv` writes them with a header. The
    column names match minidqn.history.History where the two agents record the same thing."""

    episode: list[int] = field(default_factory=list)  # episode number, counted over all train calls
    episode_return: list[float] = field(default_factory=list)  # undiscounted Σ r of the episode
    episode_length: list[int] = field(default_factory=list)  # env steps in the episode
    epsilon: list[float] = field(default_factory=list)  # ε used during the episode
    alpha: list[float] = field(default_factory=list)  # α used during the episode
    env_steps: list[int] = field(default_factory=list)  # env steps so far, this episode included
    wall_time: list[float] = field(default_factory=list)  # seconds since this train call began


class QLearningAgent:
    """A Q-table q: (S, A), initialised to zero, learned by ε-greedy Q-learning."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        config: QLearningConfig | None = None,
        seed: int = 0,
        discretizer: Discretizer | None = None,
    ):
        self.config = config if config is not None else QLearningConfig()
        if not isinstance(self.config, QLearningConfig):
            raise TypeError(f"config must be a QLearningConfig, got {type(self.config).__name__}")
        self.discretizer = discretizer
        self.n_states = _count_states(observation_space, discretizer)
        if not isinstance(action_space, spaces.Discrete) or action_space.start != 0:
            raise ValueError(
                "tabular Q-learning supports Discrete(n) action spaces (actions 0 … n−1), "
                f"got {action_space}"
            )
        self.n_actions = int(action_space.n)
        # int(obs) for a Discrete observation (done once per step, not on every table lookup).
        self.state_index = discretizer if discretizer is not None else int
        self.q = np.zeros((self.n_states, self.n_actions))  # (S, A)
        self.rng = np.random.default_rng(seed)
        c = self.config
        self.alpha_schedule = LinearSchedule(c.alpha_start, c.alpha_end, c.alpha_decay_episodes)
        self.epsilon_schedule = LinearSchedule(
            c.epsilon_start, c.epsilon_end, c.epsilon_decay_episodes
        )
        self.episodes_done = 0  # the schedules' t, kept across train calls and save/load
        self.env_steps = 0

    def greedy_action(self, s: int) -> int:
        """argmaxₐ Q(s,a), with ties broken uniformly at random."""
        q_s = self.q[s].tolist()  # (A,) as a list: for A ≈ 4, faster to scan than an ndarray
        best = max(q_s)
        # NOTE: break ties at random: a fresh table is all zeros, and np.argmax would then always
        # pick action 0, so the "greedy" agent would walk one way until something was learned.
        ties = [a for a, q_sa in enumerate(q_s) if q_sa == best]
        return ties[0] if len(ties) == 1 else ties[int(self.rng.integers(len(ties)))]

    def act(self, s: int, epsilon: float) -> int:
        """ε-greedy: a uniformly random action with probability ε, else the greedy one."""
        if self.rng.random() < epsilon:
            return int(self.rng.integers(self.n_actions))
        return self.greedy_action(s)

    def update(
        self, s: int, a: int, reward: float, next_s: int, terminated: bool, alpha: float
    ) -> float:
        """Q(s,a) ← Q(s,a) + α·δ with δ = r + γ·maxₐ′ Q(s′,a′)·(1 − terminated) − Q(s,a); return δ."""
        # NOTE: bootstrap through truncation but not through termination. A terminal state has no
        # future, so its value is 0. A time-limit truncation only stops our simulation: s′ still
        # had a future worth maxₐ′ Q(s′,a′), so `truncated` does not appear here at all.
        td_target = reward + self.config.gamma * self.q[next_s].max() * (1.0 - terminated)
        td_error = td_target - self.q[s, a]
        self.q[s, a] += alpha * td_error
        return float(td_error)

    def train(
        self,
        env: gym.Env,
        episodes: int,
        callback: Callable[[QLearningAgent, int], bool | None] | None = None,
        verbose: int = 1,
        log_every: int | None = None,
    ) -> TrainingHistory:
        """Run `episodes` episodes of ε-greedy Q-learning on `env`, updating after every step, and
        return the history of this call's episodes.

        Pass the `gym.make` env so its time limit applies. `callback(agent, env_steps)` runs at
        the end of each episode (as for the DQN agent); returning False stops training. A second
        call continues the episode counter, and with it the α and ε schedules. verbose: 0 silent,
        1 a progress line every `log_every` episodes (by default a tenth of the run).
        """
        if not (is_int(episodes) and episodes >= 1):
            raise ValueError(f"episodes must be a positive int, got {episodes!r}")
        log_every = log_every or max(1, episodes // 10)
        history = TrainingHistory()
        start = time.perf_counter()
        # Seed the env from our generator once; later resets continue the env's own stream.
        reset_seed = int(self.rng.integers(2**31))
        for _ in range(episodes):
            # 1. This episode's step size and exploration rate.
            epsilon = self.epsilon_schedule(self.episodes_done)
            alpha = self.alpha_schedule(self.episodes_done)
            obs, _ = env.reset(seed=reset_seed)
            reset_seed = None
            s = self.state_index(obs)
            episode_return, length, done = 0.0, 0, False
            while not done:
                # 2. Act ε-greedily, 3. step the environment, 4. move Q(s,a) toward the TD target.
                a = self.act(s, epsilon)
                next_obs, reward, terminated, truncated, _ = env.step(a)
                next_s = self.state_index(next_obs)
                # NOTE: pass `terminated`, not `terminated or truncated`: see update().
                self.update(s, a, float(reward), next_s, terminated, alpha)
                # NOTE: the next state becomes the current one (forgetting this learns only about s₀).
                s = next_s
                episode_return += float(reward)
                length += 1
                done = terminated or truncated  # 5. either one ends the episode
            self.episodes_done += 1
            self.env_steps += length
            history.append(self.episodes_done, episode_return, length, epsilon, alpha, self.env_steps,
                           time.perf_counter() - start)
            if verbose and len(history) % log_every == 0:
                recent = history.episode_return[-log_every:]
                print(
                    f"episode {self.episodes_done:>7,}  env steps {self.env_steps:>10,}  "
                    f"mean return (last {len(recent):,}) {np.mean(recent):8.3f}  "
                    f"ε {epsilon:.3f}  α {alpha:.4f}  {history.wall_time[-1]:6.1f} s",
                    flush=True,
                )
            if callback is not None and callback(self, self.env_steps) is False:
                break
        return history

    def greedy_policy(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """π(s) = argmaxₐ Q(s,a) for every state: (S,) ints, ties broken at random by `rng`."""
        rng = rng if rng is not None else self.rng
        is_best = self.q == self.q.max(axis=1, keepdims=True)  # (S, A)
        # Among each row's best actions, take the one with the largest random key.
        return np.argmax(np.where(is_best, rng.random(self.q.shape), -1.0), axis=1)  # (S,)

    def evaluate(self, env: gym.Env, episodes: int, seed: int) -> np.ndarray:
        """Returns (episodes,) of the greedy policy (ε = 0, no learning) under the env's time
        limit; the seed fixes both the episodes and the tie-breaking, not the training stream."""
        policy = self.greedy_policy(np.random.default_rng(seed))
        return evaluate_policy(env, policy, episodes, seed, self.state_index)

    def save(self, path: str | Path) -> None:
        """Write one .npz at exactly `path`, atomically: the table, the config and counters, the
        generator's state (so a loaded agent continues the same random stream) and the grid."""
        checkpoint.save_q_learning(self, path)

    @classmethod
    def load(cls, path: str | Path) -> QLearningAgent:
        """Rebuild an agent written by `save`. Never unpickles; a bad file raises a ValueError."""
        return checkpoint.load_q_learning(cls, path)


def _count_states(observation_space: gym.Space, discretizer: Discretizer | None) -> int:
    """The number of table rows S, or a ValueError that says what is supported."""
    supported = (
        "tabular Q-learning supports a Discrete(n) observation space (states 0 … n−1), or a "
        "1-D Box together with discretizer=Discretizer(low, high, bins)"
    )
    if isinstance(observation_space, spaces.Discrete) and observation_space.start == 0:
        if discretizer is not None:
            raise ValueError(f"{supported}; a Discrete space needs no discretizer")
        return int(observation_space.n)
    if isinstance(observation_space, spaces.Box) and len(observation_space.shape) == 1:
        if discretizer is None:
            raise ValueError(f"{supported}; got {observation_space} without a discretizer")
        if observation_space.shape != discretizer.low.shape:
            raise ValueError(
                f"{supported}; the discretizer has {discretizer.low.size} dimensions but the "
                f"observations have shape {observation_space.shape}"
            )
        return discretizer.n_states
    raise ValueError(f"{supported}; got {observation_space}")
