"""A run folder read back as data: run.json checked, its env found in the registry, its policy and records loaded.

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

from minidqn.agents.policy import GreedyPolicy
from minidqn.cli.agents import TablePolicy, greedy_policy, load_agent
from minidqn.common import checkpoint
from minidqn.common.files import open_regular
from minidqn.common.validation import is_int, is_real
from minidqn.training import env_api
from minidqn.training.history import read_csv_rows
from minidqn.training.wrappers import WRAPPERS, known

MAX_RUN_JSON = 1_000_000  # bytes: a run.json holds a few settings and one config (about 1 kB)
EVALUATION_COLUMNS = ["env_steps", "mean_return", "predicted_value", "discounted_return"]

# key: (what it must be, the check), for the keys `minidqn train` writes besides env_id and config
CHECKS = {
    "agent": ("'dqn' or 'tabular'", lambda v: v in ("dqn", "tabular")),
    "seed": ("an integer ≥ 0", lambda v: is_int(v) and v >= 0),
    "max_episode_steps": ("a positive integer or null", lambda v: v is None or (is_int(v) and v >= 1)),
    "target": ("a finite number or null", lambda v: v is None or is_real(v)),
    "eval_every": ("a positive integer", lambda v: is_int(v) and v >= 1),
    "eval_episodes": ("a positive integer", lambda v: is_int(v) and v >= 1),
    "checkpoint_every": ("a positive integer or null", lambda v: v is None or (is_int(v) and v >= 1)),
    "wrap": (f"a list of wrapper names ({', '.join(WRAPPERS)})",
             lambda v: isinstance(v, list) and all(known(name) for name in v)),
}


def read_run_json(folder: Path) -> dict:
    """The settings in folder/run.json ({} if there is none), every key but env_id checked; ValueError
    naming the file and the key otherwise."""
    path = folder / "run.json"
    if not path.exists():
        return {}
    with open_regular(path, "rb") as f:
        text = f.read(MAX_RUN_JSON + 1)
    if len(text) > MAX_RUN_JSON:
        raise ValueError(f"{path} is over {MAX_RUN_JSON:,} bytes: no run.json minidqn writes is near that size")
    try:
        run = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:  # RecursionError: nested too deep
        raise ValueError(f"{path} is not readable JSON ({type(error).__name__}: {error})") from None
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


# --- the environment ---------------------------------------------------------------------------
def make_env(env_id: str, max_episode_steps: int | None = None, render_mode: str | None = None,
             one_hot: bool = True) -> gym.Env:
    """gym.make(env_id), with a Discrete observation turned into a one-hot vector (gymnasium's
    FlattenObservation) if `one_hot`: the only change an MLP needs to act in such an env. An id
    gymnasium cannot make (misspelt, a module that does not import, a package not installed) is
    a ValueError that says which and why."""
    module, _, name = env_id.rpartition(":")
    if env_id.count(":") > 1 or not name or (module and not all(part.isidentifier() for part in module.split("."))):
        raise ValueError(f"env id {env_id!r} is neither a gymnasium id (CartPole-v1) nor module:EnvId "
                         "(my_package.envs:MyEnv-v0)")
    if env_id.startswith("MinAtar/"):
        register_minatar()
    try:
        options = {"render_mode": render_mode} if render_mode else {}  # an env of one's own may take no render_mode
        env = gym.make(env_id, max_episode_steps=max_episode_steps, **options)
    except gym.error.DependencyNotInstalled as error:
        raise ValueError(f"{env_id} needs a package that is not installed: {error}") from None
    except gym.error.Error as error:  # an unknown id, a misspelt version
        raise ValueError(f"cannot make {env_id!r}: {error}") from None
    except ImportError as error:  # module:EnvId whose module is missing or fails to import
        raise ValueError(f"cannot make {env_id!r}: importing {module!r} failed ({type(error).__name__}: "
                         f"{str(error).split('. ')[0]})") from None
    if one_hot and isinstance(env.observation_space, gym.spaces.Discrete):
        env = gym.wrappers.FlattenObservation(env)
    return env


def latest_version(env_id: str) -> str:
    """`env_id` with the highest registered version added if it has none ("CartPole" ->
    "CartPole-v1"), so that its preset applies; any other id unchanged."""
    if ":" in env_id:
        return env_id
    if env_id.startswith("MinAtar/"):
        register_minatar()
    namespace, name, version = gym.envs.registration.parse_env_id(env_id)
    highest = gym.envs.registration.find_highest_version(namespace, name) if version is None else None
    if highest is None or env_id in gym.registry:
        return env_id
    return gym.envs.registration.get_env_id(namespace, name, highest)


def reward_target(env: gym.Env, target: float | None) -> float | None:
    """The mean return that counts as solved: --target if given, else the env's registered
    reward_threshold, else None (the run then reports its returns and no verdict)."""
    return target if target is not None else env.spec.reward_threshold if env.spec is not None else None


def load_policy(path: Path) -> tuple[GreedyPolicy | TablePolicy, dict]:
    """The greedy policy in a run folder, an agent.npz or a policy.npz, and the run's settings."""
    if path.is_dir():
        policy, agent = path / "policy.npz", path / "agent.npz"
        if policy.exists() and agent.exists() and policy.stat().st_mtime < agent.stat().st_mtime:
            raise ValueError(f"{policy} is older than {agent} (a run stopped before its end writes no new policy); "
                             f"name the file to use: `{agent}` for the agent's latest network, `{policy}` for the older one")
        path = policy if policy.exists() else agent
    print(f"reading {path}")
    if checkpoint.kind_of(path) == "GreedyPolicy":
        return GreedyPolicy.load(path), read_run_json(path.parent)
    return greedy_policy(load_agent(path)), read_run_json(path.parent)


def check_fits(policy: GreedyPolicy | TablePolicy, env: gym.Env, path: Path) -> None:
    """ValueError unless the agent saved at `path` can act in `env`: the agent's own check of an
    env (its observation shape and number of actions, or its table's states), said about `path`."""
    try:
        if isinstance(policy, TablePolicy):
            policy.agent.check_env(env)
        else:
            env_api.check_env(env, policy.obs_shape, policy.n_actions, images=len(policy.obs_shape) > 1)
    except ValueError as error:
        raise ValueError(f"{path} cannot act in {env.spec.id if env.spec else 'this env'}: {error}; give the env "
                         "it was trained on (--env-id)") from None


def run_folder(path: Path) -> tuple[Path, dict]:
    """The run folder at `path` (or holding the .npz `path`) and its run.json, which must hold
    every setting `train` wrote there."""
    folder = path.parent if path.suffix == ".npz" else path
    if path.is_file() and path.suffix != ".npz":
        raise ValueError(f"{path} is a file, and resume takes a run folder or the .npz checkpoint in one")
    if not (folder / "run.json").exists():
        raise FileNotFoundError(f"{folder} holds no run.json: resume needs a folder written by `minidqn train`")
    run = read_run_json(folder)
    missing = [key for key in CHECKS if key not in run and key != "agent"]  # runs before the tabular agent lack it
    if missing:
        raise ValueError(f"{folder / 'run.json'} lacks {', '.join(missing)}: it was not written by `minidqn train`")
    return folder, run


def env_id_of(given: str | None, run: dict, path) -> str:
    """The env to act in: --env-id as the user typed it, else the one run.json beside `path` names,
    which must be registered with gymnasium (nothing read from a folder is imported)."""
    if given is not None:
        return given
    if "env_id" not in run:
        raise ValueError(f"no run.json beside {path} says which env it was trained on: give --env-id")
    return registered_env_id(run["env_id"], Path(path) / "run.json" if Path(path).is_dir() else Path(path).parent / "run.json")


def read_evaluations(folder: Path) -> list[list[float]]:
    """The rows of folder/evaluations.csv, one per evaluation during training: env step, greedy mean
    return, predicted value of the first states, discounted return obtained from them ([] if none);
    a ValueError naming the file and line that is no such row (a last line cut short is skipped)."""
    path = Path(folder) / "evaluations.csv"
    if not path.exists():
        return []
    rows = read_csv_rows(path)
    if not rows or rows[0] != EVALUATION_COLUMNS:
        raise ValueError(f"{path} is not a minidqn evaluations file: its header should be {','.join(EVALUATION_COLUMNS)}")
    values = []
    for number, row in enumerate(rows[1:], start=2):
        if number == len(rows) and len(row) != len(EVALUATION_COLUMNS):
            break  # a last line cut short by a crash
        try:
            values.append([float(v) for v in row])
            if len(row) != len(EVALUATION_COLUMNS) or not float(row[0]).is_integer():
                raise ValueError(f"expected {len(EVALUATION_COLUMNS)} numbers, the first a whole env step")
        except ValueError as error:
            raise ValueError(f"{path}, line {number}: not an evaluation row ({error})") from None
    return values
