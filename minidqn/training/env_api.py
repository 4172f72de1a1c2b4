"""What an agent needs from an environment, checked where the environment's data enters.

gymnasium's API (since gym 0.26): `env.reset(seed=...)` returns (observation, info) and
`env.step(action)` returns (observation, reward, terminated, truncated, info). An env written for
the older gym API, or one that returns NaN, a reward that is not a number or an observation of
the wrong shape, would otherwise poison the replay memory and stop training much later, with an
error that blames something else. These checks stop it at the step where it happens and say
what the env returned. `at` names that moment in messages: an env step number, or a phrase
such as "in evaluation".

    >>> import gymnasium as gym
    >>> env = gym.make("CartPole-v1")
    >>> obs = reset(env, seed=0)
    >>> obs.shape
    (4,)
    >>> next_obs, reward, terminated, truncated = step(env, 0, at=1)
    >>> reward, terminated, truncated
    (1.0, False, False)
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from minidqn.common.validation import is_number, is_real


def check_env(env, obs_shape: tuple[int, ...] | None = None, n_actions: int | None = None,
              images: bool = False) -> tuple[tuple[int, ...], int]:
    """check_spaces of env's spaces, after refusing a vector env (gymnasium.vector: N envs stepped
    at once, whose spaces are batches), which an agent that steps one env cannot use."""
    if hasattr(env, "num_envs"):  # gymnasium.vector.VectorEnv and its wrappers
        raise ValueError(f"this is a vector env ({env.num_envs} envs stepped together, from gym.make_vec or "
                         "gymnasium.vector); minidqn's agents step one env: pass gym.make(env_id) instead")
    return check_spaces(env.observation_space, env.action_space, obs_shape, n_actions, images)


def check_spaces(observation_space, action_space, obs_shape: tuple[int, ...] | None = None,
                 n_actions: int | None = None, images: bool = False) -> tuple[tuple[int, ...], int]:
    """(observation shape, A) for a Box observation of shape (D,), or (H, W, C) if `images` (a
    network with conv layers), and Discrete(A) actions; a ValueError that says what to do otherwise.
    With obs_shape and n_actions, the env must match them (an agent built for another env)."""
    is_box = isinstance(observation_space, spaces.Box)
    wanted = 3 if images else 1
    if not (is_box and len(observation_space.shape) == wanted and min(observation_space.shape) >= 1):
        if isinstance(observation_space, spaces.Discrete):
            advice = ("Wrap the env in gymnasium.wrappers.FlattenObservation, which turns a Discrete "
                      "observation into a one-hot vector (the command line does this itself).")
        elif is_box and len(observation_space.shape) == 2 and isinstance(action_space, spaces.MultiDiscrete):
            advice = ("These look like the spaces of a vector env (a batch of observations, one action per "
                      "env): minidqn's agents step one env, so pass gym.make(env_id), not gym.make_vec.")
        elif images:
            advice = "Set conv_layers only for image observations; for flat vectors leave it empty (an MLP)."
        elif is_box and len(observation_space.shape) == 3:
            advice = ("For images (H, W, C), give the network conv layers (DQNConfig.conv_layers), or flatten "
                      "them (gymnasium.wrappers.FlattenObservation) for the MLP.")
        elif is_box and len(observation_space.shape) > 1:
            advice = "Flatten them (gymnasium.wrappers.FlattenObservation) to use the MLP."
        else:
            advice = "Wrap it in gymnasium.wrappers.FlattenObservation if it can be flattened."
        expected = "(H, W, C) (an image, channels last)" if images else "(D,) (a flat vector)"
        raise ValueError(f"DQNAgent supports a Box observation space of shape {expected}; got {observation_space}. "
                         f"{advice}")
    if not isinstance(action_space, spaces.Discrete) or int(action_space.start) != 0:
        raise ValueError(f"DQNAgent supports Discrete(n) action spaces starting at 0; got {action_space}")
    shape, A = tuple(int(n) for n in observation_space.shape), int(action_space.n)
    if obs_shape is not None and (shape, A) != (tuple(obs_shape), n_actions):
        raise ValueError(f"env has observations of shape {shape} and {A} actions; the agent was built for "
                         f"{tuple(obs_shape)} and {n_actions}")
    return shape, A


def reset(env, seed: int | None = None, at: int | str = "at the first reset"):
    """The first observation of a new episode (the info dict is dropped)."""
    result = env.reset(seed=seed)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"env.reset() must return (observation, info), as in gymnasium's API; {when(at)} it "
                        f"returned {_short(result)}. An env written for the old gym API returns the "
                        "observation alone: update it to gymnasium's API.")
    return result[0]


def step(env, action: int, at: int | str):
    """(observation, reward, terminated, truncated) of env.step(action): the reward a finite
    float, the two flags bools."""
    result = env.step(action)
    if not (isinstance(result, tuple) and len(result) == 5):
        raise TypeError(f"env.step(action) must return (observation, reward, terminated, truncated, info), as in "
                        f"gymnasium's API; {when(at)} it returned {_short(result)}. A 4-tuple (observation, "
                        "reward, done, info) is the old gym API: update the env to gymnasium's.")
    obs, reward, terminated, truncated, _ = result
    if isinstance(reward, np.ndarray) and reward.shape == ():
        reward = reward[()]  # a 0-d array holds one number: accept it as that number
    if not is_real(reward):  # one check per step; which rule it broke is worked out only when it fails
        if not is_number(reward):
            raise TypeError(f"env.step() returned the reward {_short(reward)} {when(at)}: expected one real number")
        raise ValueError(f"env.step() returned the reward {_short(reward)} {when(at)}: rewards must be finite")
    for name, flag in (("terminated", terminated), ("truncated", truncated)):
        if not isinstance(flag, (bool, np.bool_)):
            raise TypeError(f"env.step() returned {name} = {_short(flag)} {when(at)}: expected True or False")
    return obs, float(reward), bool(terminated), bool(truncated)


def observation(obs, shape: tuple[int, ...], dtype, at: int | str) -> np.ndarray:
    """`obs` as an array of `shape` and `dtype`, every value finite; TypeError or ValueError
    naming what the env returned otherwise."""
    try:
        raw = obs if isinstance(obs, np.ndarray) else np.asarray(obs)
    except ValueError:  # a ragged list
        raw = np.empty(0, object)
    if raw.dtype.kind not in "biuf":  # not strings parsed as numbers, not complex losing its imaginary part
        raise TypeError(f"the observation {when(at)} is not an array of real numbers: {_short(obs)}")
    x = raw.astype(dtype, copy=False)
    if x.shape != shape:
        raise ValueError(f"the observation {when(at)} has shape {x.shape}, but the agent was built for "
                         f"shape {shape}: {_short(obs)}")
    if not np.isfinite(x).all():
        raise ValueError(f"the observation {when(at)} holds NaN or inf (as {np.dtype(dtype).name}): {_short(obs)}")
    return x


def batch(observations, obs_shape: tuple[int, ...], dtype) -> tuple[np.ndarray, bool]:
    """(x, single): observations given to an agent as rows (B, D) in `dtype`, D = the product of
    obs_shape (an image flattened row-major), and whether they were one observation of obs_shape;
    a ValueError unless they are finite real numbers of shape obs_shape or (B, *obs_shape)."""
    x = np.asarray(observations)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"observations must be real numbers, got an array of {x.dtype}")
    x = x.astype(dtype, copy=False)
    single = x.shape == tuple(obs_shape)
    if not (single or (x.ndim == len(obs_shape) + 1 and x.shape[1:] == tuple(obs_shape))):
        shape = ", ".join(map(str, obs_shape)) + ("," if len(obs_shape) == 1 else "")
        raise ValueError(f"observations must have shape ({shape}) or (B, {shape.rstrip(',')}), got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("observations hold NaN or inf")
    return x.reshape(1 if single else len(x), int(np.prod(obs_shape))), single  # (B, D)


def when(at: int | str) -> str:
    """'at env step 1,234' for a step number, else the phrase itself ('in evaluation')."""
    return f"at env step {at:,}" if isinstance(at, int) else at


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
