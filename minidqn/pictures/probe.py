"""A window into a training run: what the networks say about fixed inputs, every few env steps.

`Probe` wraps the env an agent trains on. Every `every` env steps it asks both networks for
the Q-values of one fixed state s₀, and computes the TD targets of one fixed batch of stored
transitions, drawn once, as soon as the replay memory holds it:

    online_q[t]  = Q(s₀, ·; θ)        the network being trained         (T, A)
    target_q[t]  = Q(s₀, ·; θ⁻)       the target network                (T, A)
    td_targets[t] = yᵢ = rᵢ + γⁿ·(1 − terminatedᵢ)·maxₐ′ Q(s′ᵢ, a′; θ⁻)   (T, B), NaN before the batch exists

so a plot shows θ⁻ lagging θ (a staircase for a hard copy every C steps, a smooth lag for
Polyak averaging), and the regression targets moving while the network learns. It only reads:
it draws from its own generator, calls the networks (no caches touched) and `td_target`, which change nothing, so a
probed run is the same run, to the last bit, as one without it (tests/test_probe.py).

    agent, probe = train_probed(gym.make("CartPole-v1"), DQNConfig(), steps=10_000, every=100)
    probe.steps, probe.online_q, probe.target_q, probe.td_targets   # arrays, one row per record
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from minidqn.agents.config import DQNConfig
from minidqn.agents.dqn import DQNAgent


class Probe(gym.Wrapper):
    """The env, unchanged, plus a record of the agent's networks every `every` env steps."""

    def __init__(self, env: gym.Env, every: int = 100, batch_size: int = 8, probe_obs=None, seed: int = 0):
        super().__init__(env)
        if not (isinstance(every, int) and every >= 1):
            raise ValueError(f"every must be a positive integer, got {every!r}")
        if not (isinstance(batch_size, int) and batch_size >= 1):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.every, self.batch_size = every, batch_size
        self.agent = None  # set after the agent is made: the agent needs the env's spaces first
        self.probe_obs = None if probe_obs is None else np.asarray(probe_obs)  # s₀; None: the first observation
        self.rng = np.random.default_rng(seed)  # the probe's own draws: the agent's stay untouched
        self.batch = None  # (rewards, next_obs, terminated) of the fixed transitions, once drawn
        self.t = 0  # env steps seen
        self._steps, self._online_q, self._target_q, self._td_targets = [], [], [], []

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        if self.probe_obs is None:
            self.probe_obs = np.asarray(obs)
        return obs, info

    def step(self, action):
        result = self.env.step(action)
        self.t += 1
        if self.t % self.every == 0:
            self.record()
        return result

    def record(self) -> None:
        """Append one row: the env step, Q(s₀, ·) of both networks, and the fixed batch's TD targets."""
        agent = self.agent
        if agent is None:
            raise ValueError("Probe.agent is not set: assign the agent that trains on this env (env.agent = agent)")
        if self.batch is None and len(agent.buffer) >= self.batch_size:
            drawn = [agent.buffer.transition(int(i)) for i in self.rng.choice(len(agent.buffer), self.batch_size,
                                                                            replace=False)]
            self.batch = (np.array([tr.reward for tr in drawn], agent.dtype),
                          np.stack([tr.next_obs for tr in drawn]),
                          np.array([tr.terminated for tr in drawn], agent.dtype))
        s0 = self.probe_obs.reshape(1, -1).astype(agent.dtype)  # (1, D)
        self._steps.append(self.t)
        self._online_q.append(agent.head.q_values(agent.online(s0))[0])
        self._target_q.append(agent.target(s0)[0])
        targets = np.full(self.batch_size, np.nan) if self.batch is None else agent.td_target(*self.batch)
        self._td_targets.append(targets)

    @property
    def steps(self) -> np.ndarray:
        """The env step of each record: (T,)."""
        return np.array(self._steps)

    @property
    def online_q(self) -> np.ndarray:
        """Q(s₀, ·; θ) at each record: (T, A)."""
        return np.array(self._online_q)

    @property
    def target_q(self) -> np.ndarray:
        """Q(s₀, ·; θ⁻) at each record: (T, A)."""
        return np.array(self._target_q)

    @property
    def td_targets(self) -> np.ndarray:
        """The fixed batch's TD targets y at each record: (T, B), NaN rows before it was drawn."""
        return np.array(self._td_targets)


def train_probed(env: gym.Env, config: DQNConfig, steps: int, seed: int = 0, every: int = 100,
                 batch_size: int = 8) -> tuple[DQNAgent, Probe]:
    """Train a new DQNAgent(config, seed) on `env` for `steps` env steps with a Probe around the
    env (records every `every` steps, a fixed batch of `batch_size`); return the agent and the probe."""
    probe = Probe(env, every=every, batch_size=batch_size, seed=seed)
    agent = DQNAgent(probe.observation_space, probe.action_space, config, seed=seed)
    probe.agent = agent  # after the agent exists: it is made from the env's spaces
    agent.train(probe, steps, verbose=0)
    return agent, probe
