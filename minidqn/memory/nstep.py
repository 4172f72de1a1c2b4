"""n-step returns: consecutive transitions of one episode folded into one, before they are replayed.

A one-step TD target r + γ·Q(s′) moves information about the future back by one step per update.
The n-step target sums n rewards before it bootstraps (Sutton & Barto, 2018, ch. 7; Hessel et
al., 2018, for DQN):

    y_t = r_t + γ·r_{t+1} + ... + γⁿ⁻¹·r_{t+n−1} + γⁿ·(1 − terminated)·Q(s_{t+n}, a′)

so a consequence n steps away reaches the state that caused it in one update, and every
bootstrap is discounted by γⁿ instead of γ. The transition stored in the replay buffer is
(s_t, a_t, R_t, s_{t+n}, terminated) with R_t the sum of the n discounted rewards; the agent's TD
target then uses γⁿ (DQNAgent.td_target). With n = 1 this is the ordinary transition.

The n rewards come from the behaviour policy (ε-greedy), not the greedy one, so for n > 1 the
target is slightly biased towards the value of acting ε-greedily; small n keeps that bias small.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class NStepTransitions:
    """Turns the one-step transitions of an episode, in order, into n-step transitions."""

    def __init__(self, n: int, gamma: float):
        if not (isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1):
            raise ValueError(f"n must be a positive integer, got {n!r}")
        self.n, self.gamma = int(n), float(gamma)
        self.discounts = [self.gamma**k for k in range(self.n)]  # 1, γ, γ², ..., γⁿ⁻¹
        self.pending: deque[tuple] = deque()  # (obs, action, reward) of the steps not yet folded

    def add(self, obs, action: int, reward: float, next_obs, terminated: bool, truncated: bool) -> list[tuple]:
        """Take the step (s, a, r, s′) and return the n-step transitions it completes, oldest
        first, each as (s_t, a_t, R_t, s_{t+n}, terminated): none, one, or at a termination all
        that are pending."""
        self.pending.append((np.array(obs), action, reward))  # a copy: an env may reuse its array
        ready = []
        if terminated:
            # The episode has no future: every pending step gets the rewards up to the end (fewer
            # than n) and, being terminated, no bootstrap, which makes its target exact.
            while self.pending:
                ready.append(self._fold(next_obs, True))
        elif len(self.pending) == self.n:
            ready.append(self._fold(next_obs, False))
        if truncated and not terminated:
            # NOTE: at a time limit the last n − 1 steps have no n-th successor. Their correct
            # target would bootstrap from s′ with γᵐ, m < n, and the buffer stores one γⁿ for
            # all. They are dropped instead: time is not part of the state, so the state at a
            # time limit is an ordinary state, reached by the stored transitions that end in it.
            self.pending.clear()
        return ready

    def reset(self) -> None:
        """Forget the pending steps: the episode was abandoned (a new train() call starts afresh)."""
        self.pending.clear()

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The pending steps, oldest first: {"obs": (k, D), "actions": (k,), "rewards": (k,)}."""
        obs = np.array([o for o, _, _ in self.pending], dtype=np.float64)  # (k, D); (0,) when empty
        actions = np.array([a for _, a, _ in self.pending], dtype=np.int64)  # (k,)
        rewards = np.array([r for _, _, r in self.pending], dtype=np.float64)  # (k,)
        return {}, {"obs": obs, "actions": actions, "rewards": rewards}

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Replace the pending steps by those of a `state()`; fewer than n of them."""
        obs, actions, rewards = arrays["obs"], arrays["actions"], arrays["rewards"]
        k = len(actions)
        if actions.shape != (k,) or rewards.shape != (k,) or len(obs) != k or k >= self.n:
            raise ValueError(f"the pending window must hold fewer than n = {self.n} steps of matching "
                             f"length, got obs {obs.shape}, actions {actions.shape}, rewards {rewards.shape}")
        if actions.dtype.kind not in "iu" or np.any(actions < 0):
            raise ValueError(f"the pending actions must be integers ≥ 0, got {actions.dtype} {actions.tolist()}")
        self.pending = deque(zip(obs, actions.tolist(), rewards.tolist()))

    def _fold(self, next_obs, terminated: bool) -> tuple:
        """(s_t, a_t, R_t, next_obs, terminated) for the oldest pending step t, which is removed."""
        reward = sum(g * r for g, (_, _, r) in zip(self.discounts, self.pending))  # Σₖ γᵏ r_{t+k}
        obs, action, _ = self.pending.popleft()
        return obs, action, reward, next_obs, terminated
