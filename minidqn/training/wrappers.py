"""Changes to a training env that a run can name: `minidqn train --wrap NAME`, or `wrap` in a sweep file's row.

A run folder and a sweep file are data, so they name a wrapper from WRAPPERS and never import
one: run.json records the names, and `resume` wraps its env the same way again. The evaluation
env is never wrapped: a change to what the agent learns from is measured on the env as it is.

    >>> import gymnasium as gym
    >>> env = wrap_env(gym.make("CartPole-v1", max_episode_steps=3), ["truncation-as-termination"])
    >>> _ = env.reset(seed=0)
    >>> [env.step(0)[2:4] for _ in range(3)]  # (terminated, truncated): the time limit now ends the task
    [(False, False), (False, False), (True, False)]
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym


class TruncationAsTermination(gym.Wrapper):
    """The classic mistake, on purpose: a time limit reported as the end of the task.

    gymnasium says `truncated` when an episode is cut off by a time limit and `terminated` when the
    task itself ended. An agent that bootstraps through truncation and not through termination
    (ours) can only be told apart from one that treats both alike by an env that lies: this one
    reports terminated = terminated or truncated, and never truncated, so the TD target of the
    last step of a cut-off episode becomes r instead of r + γ·max Q(s′, ·)."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated or truncated, False, info


WRAPPERS = {"truncation-as-termination": TruncationAsTermination}


def check_wrappers(names: object) -> list[str]:
    """`names` as a list of WRAPPERS' names; ValueError naming one that is not, and the names there are."""
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise ValueError(f"wrap must be a list of wrapper names ({', '.join(WRAPPERS)}), got {names!r}")  # noqa: TRY004 (read from a file)
    for name in names:
        if not known(name):
            raise ValueError(f"wrap: {name!r} is not a wrapper minidqn knows; the wrappers are {', '.join(WRAPPERS)}")
    return list(names)


def known(name: object) -> bool:
    """Whether `name` names one of WRAPPERS."""
    return isinstance(name, str) and name in WRAPPERS


def wrap_env(env: gym.Env, names: Sequence[str]) -> gym.Env:
    """`env` inside each named wrapper, the first name innermost."""
    for name in check_wrappers(names):
        env = WRAPPERS[name](env)
    return env
