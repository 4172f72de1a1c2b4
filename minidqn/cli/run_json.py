"""run.json: a run folder's settings, read as data and checked before anything is made from them.

A run folder can come from anyone, so nothing in it is imported or executed. gymnasium's
`gym.make("module:EnvId")` imports `module` first; an env id typed on the command line may do
that (the user chose the module), but one read from run.json may not: it must be an id already
in gymnasium's registry (MinAtar's games are registered first, as `minidqn train` does). Every
other value is checked like a config field, and an error names the file, the key and what was
expected.
"""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym

from minidqn.common.validation import is_int, is_real

# key: (what it must be, the check), for the keys `minidqn train` writes besides env_id and config
CHECKS = {
    "seed": ("an integer ≥ 0", lambda v: is_int(v) and v >= 0),
    "max_episode_steps": ("a positive integer or null", lambda v: v is None or (is_int(v) and v >= 1)),
    "target": ("a finite number or null", lambda v: v is None or is_real(v)),
    "eval_every": ("a positive integer", lambda v: is_int(v) and v >= 1),
    "eval_episodes": ("a positive integer", lambda v: is_int(v) and v >= 1),
    "checkpoint_every": ("a positive integer or null", lambda v: v is None or (is_int(v) and v >= 1)),
}


def read_run_json(folder: Path) -> dict:
    """The settings in folder/run.json ({} if there is none), every key but env_id checked; ValueError
    naming the file and the key otherwise."""
    path = folder / "run.json"
    if not path.exists():
        return {}
    try:
        run = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not readable JSON ({error})") from None
    if not isinstance(run, dict):
        raise ValueError(f"{path} must hold a JSON object of settings, got {type(run).__name__}")  # noqa: TRY004 (a file's contents)
    for key, (expected, ok) in CHECKS.items():
        if key in run and not ok(run[key]):
            raise ValueError(f"{path}: {key} must be {expected}, got {run[key]!r}")
    if "config" in run and not isinstance(run["config"], dict):
        raise ValueError(f"{path}: config must be an object of DQNConfig fields, got {run['config']!r}")
    return run  # its env_id is checked where it is used (env_id_of): the user may give another


def registered_env_id(env_id: object, path: Path) -> str:
    """`env_id` if it names an env in gymnasium's registry; a ValueError naming `path` otherwise,
    and for an id that names a module to import, how to import it on purpose."""
    if not isinstance(env_id, str) or not env_id:
        raise ValueError(f"{path}: env_id must be a gymnasium id such as 'CartPole-v1', got {env_id!r}")
    if ":" in env_id:
        raise ValueError(f"{path}: env_id {env_id!r} names a module to import, and nothing read from a run folder "
                         f"is imported; if you trust it, pass --env-id {env_id} on the command line")
    if env_id.startswith("MinAtar/"):
        register_minatar()
    if env_id not in gym.registry:
        raise ValueError(f"{path}: env_id {env_id!r} is not a registered gymnasium env")
    return env_id


def register_minatar() -> None:
    """Register MinAtar's games with gymnasium (MinAtar/Breakout-v0 ...), once; SystemExit naming
    the extra to install if the minatar package is missing."""
    if "MinAtar/Breakout-v0" in gym.registry:
        return
    try:
        import minatar.gym
    except ImportError:
        raise SystemExit("MinAtar's games need the minatar package: pip install -e \".[minatar]\"") from None
    minatar.gym.register_envs()
