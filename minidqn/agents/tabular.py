"""Tabular Q-learning (Watkins, 1989): one table entry Q(s,a) per state and action, no network.

The agent works on environments with `Discrete` observations and actions (FrozenLake-v1,
Taxi-v4, CliffWalking-v1), or on a `Box` observation cut into bins by a `Discretizer` (CartPole).
S is the number of states (table rows) and A the number of actions. Each step of `train` is

    Q(s,a) ← Q(s,a) + α·[r + γ·maxₐ′ Q(s′,a′)·(1 − terminated) − Q(s,a)]

with ε-greedy behaviour; α and ε follow schedules counted in episodes. Value iteration on the
environment's own model (minidqn.agents.value_iteration) gives the exact Q* to compare against; the
derivation and the measured results are in docs/tabular.md, the demo is demos/frozenlake.py.

    >>> import gymnasium as gym
    >>> env = gym.make("FrozenLake-v1")
    >>> agent = QLearningAgent(env.observation_space, env.action_space, seed=0)
    >>> agent.q.shape  # (S, A), all zeros until trained
    (16, 4)
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from minidqn.agents.config import QLearningConfig, config_from_dict
from minidqn.agents.discretizer import Discretizer
from minidqn.agents.schedules import LinearSchedule
from minidqn.common.checkpoint import read_checkpoint, refusing, write_checkpoint
from minidqn.common.validation import check_seed, count, is_int
from minidqn.training import env_api
from minidqn.training.evaluation import evaluate
from minidqn.training.history import History
from minidqn.training.run import TrainingRun

MAX_TABLE = 10**8  # Q-table entries, 800 MB of float64: a grid larger than this is a mistake in its bins


class QLearningAgent:
    """A Q-table q: (S, A), initialised to zero, learned by ε-greedy Q-learning."""

    FORMAT = 2  # the checkpoint format version this agent writes

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
        if self.n_states * self.n_actions > MAX_TABLE:  # refused before a table of gigabytes is allocated
            raise ValueError(f"a Q-table of {self.n_states:,} states × {self.n_actions} actions has more than "
                             f"{MAX_TABLE:,} entries ({self.n_states * self.n_actions * 8 / 1e9:,.1f} GB): use fewer bins")
        self.observation_space, self.action_space = observation_space, action_space
        self.q = np.zeros((self.n_states, self.n_actions))  # (S, A)
        self.rng = np.random.default_rng(check_seed(seed))
        c = self.config
        self.alpha_schedule = LinearSchedule(c.alpha_start, c.alpha_end, c.alpha_decay_episodes)
        self.epsilon_schedule = LinearSchedule(
            c.epsilon_start, c.epsilon_end, c.epsilon_decay_episodes
        )
        self.num_steps = 0  # env steps taken in training, over all train() calls
        self.num_updates = 0  # table updates, one per env step
        self.num_episodes = 0  # training episodes finished: the schedules' t

    def epsilon(self, episode: int | None = None) -> float:
        """ε of the exploration schedule at `episode` (default: now)."""
        return self.epsilon_schedule(self.num_episodes if episode is None else episode)

    def learning_rate(self, episode: int | None = None) -> float:
        """α, the step size of the update, at `episode` (default: now)."""
        return self.alpha_schedule(self.num_episodes if episode is None else episode)

    def state_index(self, obs, at: int | str = "given") -> int:
        """The table row of an observation: the Discretizer's row for a Box, the state itself for
        a Discrete space; a ValueError that says `at` which step the env returned it otherwise."""
        if self.discretizer is not None:
            try:
                return self.discretizer(obs)
            except ValueError as error:
                raise ValueError(f"the observation {env_api.when(at)}: {error}") from None
        if not (is_int(obs) and 0 <= obs < self.n_states):
            raise ValueError(f"the observation {env_api.when(at)} is {obs!r}, not a state of 0 … {self.n_states - 1}")
        return int(obs)

    def check_env(self, env: gym.Env) -> None:
        """ValueError unless `env` has the observation and action spaces this agent was built for."""
        obs_space, action_space = env.observation_space, env.action_space
        same_states = (_count_states(obs_space, self.discretizer) == self.n_states
                       if isinstance(obs_space, (spaces.Discrete, spaces.Box)) else False)
        if not (same_states and isinstance(action_space, spaces.Discrete) and action_space.n == self.n_actions):
            raise ValueError(f"the env has {obs_space} and {action_space}; the agent was built for "
                             f"{self.observation_space} and {self.action_space}")

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
        if not 0 <= s < self.n_states:
            raise ValueError(f"s must be a state in 0 … {self.n_states - 1}, got {s!r}")
        if self.rng.random() < epsilon:
            return int(self.rng.integers(self.n_actions))
        return self.greedy_action(s)

    def update(
        self, s: int, a: int, reward: float, next_s: int, terminated: bool, alpha: float
    ) -> float:
        """Q(s,a) ← Q(s,a) + α·δ with δ = r + γ·maxₐ′ Q(s′,a′)·(1 − terminated) − Q(s,a); return δ."""
        # NOTE: NumPy would read q[-1] as the last state: a wrong index must fail, not wrap around.
        if not (0 <= s < self.n_states and 0 <= next_s < self.n_states and 0 <= a < self.n_actions):
            raise ValueError(f"states must be in 0 … {self.n_states - 1} and actions in 0 … {self.n_actions - 1}; "
                             f"got s = {s!r}, a = {a!r}, next_s = {next_s!r}")
        # NOTE: bootstrap through truncation but not through termination. A terminal state has no
        # future, so its value is 0. A time-limit truncation only stops our simulation: s′ still
        # had a future worth maxₐ′ Q(s′,a′), so `truncated` does not appear here at all.
        td_target = reward + self.config.gamma * self.q[next_s].max() * (1.0 - terminated)
        td_error = td_target - self.q[s, a]
        self.q[s, a] += alpha * td_error
        return float(td_error)

    def train(self, env: gym.Env, total_steps: int | None = None, callback=None, verbose: int = 1,
              checkpoint_path: str | os.PathLike | None = None, checkpoint_every: int | None = None,
              *, episodes: int | None = None) -> History:
        """Run ε-greedy Q-learning on `env` for `total_steps` env steps (or until `episodes`
        episodes have ended, whichever comes first), updating after every step; return the
        history of the episodes finished in this call.

        The arguments and the returned History are those of DQNAgent.train, and so are the
        progress lines, the checkpoints, Ctrl-C and the divergence guard (minidqn.training.run). Pass
        the `gym.make` env so its time limit applies. A second call continues the counters, and
        with them the α and ε schedules, starting a fresh episode.
        """
        run = TrainingRun(self, total_steps, callback, verbose, checkpoint_path, checkpoint_every, episodes)
        self.check_env(env)
        s = None  # no episode under way: every call starts a fresh one
        with run:
            for _ in range(total_steps or sys.maxsize):  # with only `episodes`, until they are done
                if s is None:  # 0. Start an episode, its reset seeded from our generator (a resumed run
                    seed = int(self.rng.integers(2**31))  # then meets the episodes an uninterrupted one did)
                    s = self.state_index(env_api.reset(env, seed=seed, at=self.num_steps or "at the first reset"),
                                         self.num_steps)
                # 1. This episode's exploration rate and step size (both schedules count episodes).
                epsilon, alpha = self.epsilon(), self.learning_rate()
                # 2. Act ε-greedily, 3. step the environment, 4. move Q(s,a) toward the TD target.
                a = self.act(s, epsilon)
                next_obs, reward, terminated, truncated = env_api.step(env, a, at=self.num_steps + 1)
                next_s = self.state_index(next_obs, at=self.num_steps + 1)
                # NOTE: pass `terminated`, not `terminated or truncated`: see update().
                td_error = self.update(s, a, reward, next_s, terminated, alpha)
                q_sa = float(self.q[s, a])  # Q(s, a) after its update: the record's mean and max Q
                # NOTE: the next state becomes the current one (forgetting this learns only about s₀).
                s = next_s
                self.num_steps += 1
                self.num_updates += 1
                run.log_loss(td_error * td_error, q_taken=(q_sa,))  # (δ·δ: a float's ** raises on overflow)
                # 5. Either flag ends the episode: log it (the next step starts a new one).
                done = terminated or truncated
                if done:
                    self.num_episodes += 1
                    s = None  # the next step starts a new episode
                if not run.log_step(reward, done, epsilon, alpha):
                    break
        return run.history

    def greedy_policy(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """π(s) = argmaxₐ Q(s,a) for every state: (S,) ints, ties broken at random by `rng`."""
        rng = rng if rng is not None else self.rng
        is_best = self.q == self.q.max(axis=1, keepdims=True)  # (S, A)
        # Among each row's best actions, take the one with the largest random key.
        return np.argmax(np.where(is_best, rng.random(self.q.shape), -1.0), axis=1)  # (S,)

    def evaluate(self, env: gym.Env, episodes: int, seed: int, max_steps: int = 100_000) -> np.ndarray:
        """Returns (episodes,) of the greedy policy (ε = 0, no learning) under the env's time
        limit, an episode cut after `max_steps` steps at the latest (minidqn.training.evaluation); the
        seed fixes both the episodes and the tie-breaking, not the training stream."""
        self.check_env(env)
        policy = self.greedy_policy(np.random.default_rng(check_seed(seed))).tolist()  # (S,) as a list: fast to index
        return evaluate(env, lambda obs: policy[self.state_index(obs, "in evaluation")], episodes, seed, max_steps)

    def non_finite(self) -> str | None:
        """What in the agent's state is NaN or infinite, or None (the divergence guard's scan)."""
        return None if np.isfinite(self.q).all() else "the Q-table holds NaN or infinite values"

    def divergence_advice(self) -> str:
        return (f"Check the environment's rewards for NaN or inf, or try a smaller step size "
                f"(alpha_start, now {self.config.alpha_start:g}).")

    def save(self, path: str | os.PathLike) -> None:
        """Write one .npz at exactly `path`, atomically: the table, the config and counters, the
        generator's state (so a loaded agent continues the same random stream) and the grid."""
        meta = {"config": asdict(self.config), "num_steps": self.num_steps, "num_updates": self.num_updates,
                "num_episodes": self.num_episodes, "rng_state": self.rng.bit_generator.state,
                "discretizer": self.discretizer is not None}
        arrays = {"q": self.q}
        if self.discretizer is not None:
            d = self.discretizer
            arrays.update(low=d.low, high=d.high, bins=d.bins)
        write_checkpoint(path, f"minidqn.QLearningAgent/{self.FORMAT}", meta, arrays)

    @classmethod
    def load(cls, path: str | os.PathLike) -> QLearningAgent:
        """Rebuild an agent written by `save`. Never unpickles; a bad file raises a CheckpointError."""
        kind = "QLearningAgent"
        meta, arrays = read_checkpoint(path, kind, cls.FORMAT, {1: _upgrade_1_to_2})
        with refusing(path, kind):
            config = config_from_dict(QLearningConfig, meta["config"])
            q = arrays["q"]  # (S, A)
            if q.ndim != 2 or q.dtype != np.float64 or 0 in q.shape:
                raise ValueError(f"array 'q' is {q.dtype} {q.shape}, not a float64 (S, A) table")
            grid = ("low", "high", "bins") if meta["discretizer"] is True else ()
            if meta["discretizer"] not in (True, False) or set(arrays) != {"q", *grid}:
                raise ValueError(f"a {'grid' if grid else 'Discrete'} agent's file holds the arrays "
                                 f"{sorted({'q', *grid})}, this one {sorted(arrays)}")
            discretizer = None
            if meta["discretizer"]:
                discretizer = Discretizer(arrays["low"], arrays["high"], arrays["bins"])
                observation_space = spaces.Box(-np.inf, np.inf, shape=discretizer.low.shape)
            else:
                observation_space = spaces.Discrete(q.shape[0])
            agent = cls(observation_space, spaces.Discrete(q.shape[1]), config, discretizer=discretizer)
            if q.shape != agent.q.shape:
                raise ValueError(f"array 'q' is {q.shape}, the agent's grid needs {agent.q.shape}")
            agent.q[:] = q
            for name in ("num_steps", "num_updates", "num_episodes"):
                setattr(agent, name, count(meta, name))
            agent.rng.bit_generator.state = meta["rng_state"]
        return agent


def _upgrade_1_to_2(meta: dict, arrays: dict) -> tuple[dict, dict]:
    """Version 2 counts as DQNAgent does (num_steps, num_episodes, num_updates instead of
    env_steps and episodes_done) and says whether the table has a Discretizer's grid."""
    meta["num_steps"] = meta["num_updates"] = meta.pop("env_steps")
    meta["num_episodes"] = meta.pop("episodes_done")
    meta["discretizer"] = "bins" in arrays
    return meta, arrays


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
