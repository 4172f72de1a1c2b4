"""A run folder: train an agent into it, resume it, draw it, and read it back.

A run folder holds agent.npz (the whole agent, to resume), policy.npz (the network alone, to act),
run.json (the env and settings), history.csv (one row per episode, written as each ends),
evaluations.csv, learning_curve.png and summary.json (the final greedy evaluation). The command
line (minidqn.cli.commands) and the demos work through these functions.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict
from pathlib import Path

import gymnasium as gym
import numpy as np

from minidqn.agents.config import DQNConfig
from minidqn.agents.dqn import DQNAgent
from minidqn.agents.policy import GreedyPolicy
from minidqn.cli.run_json import read_run_json, register_minatar, registered_env_id
from minidqn.common import checkpoint
from minidqn.training.evaluation import (
    EvaluateEvery,
    play_episode,
    value_against_return,
)
from minidqn.training.history import EpisodeCSV, History, write_csv

EVALUATION_COLUMNS = ["env_steps", "mean_return", "predicted_value", "discounted_return"]

# --- the environment ---------------------------------------------------------------------------
def make_env(env_id: str, max_episode_steps: int | None = None, render_mode: str | None = None) -> gym.Env:
    """gym.make(env_id), with a Discrete observation turned into a one-hot vector
    (gymnasium's FlattenObservation), the only change an MLP needs to act in such an env."""
    if env_id.startswith("MinAtar/"):
        register_minatar()
    try:
        options = {"render_mode": render_mode} if render_mode else {}  # an env of one's own may take no render_mode
        env = gym.make(env_id, max_episode_steps=max_episode_steps, **options)
    except gym.error.DependencyNotInstalled as error:
        raise SystemExit(f"{env_id} needs a package that is not installed: {error}") from None
    except gym.error.Error as error:  # an unknown id, a misspelt version
        raise SystemExit(f"cannot make {env_id!r}: {error}") from None
    if isinstance(env.observation_space, gym.spaces.Discrete):
        env = gym.wrappers.FlattenObservation(env)
    return env


def reward_target(env: gym.Env, target: float | None) -> float | None:
    """The mean return that counts as solved: --target if given, else the env's registered
    reward_threshold, else None (the run then reports its returns and no verdict)."""
    return target if target is not None else env.spec.reward_threshold if env.spec is not None else None


# --- train and resume --------------------------------------------------------------------------
def train_run(agent: DQNAgent, run: dict, out: Path, steps: int, verbose: int = 1) -> dict:
    """Train `agent` for `steps` env steps on run["env_id"], writing everything to `out` as it goes;
    return the summary also written to out/summary.json."""
    env, eval_env = make_env(run["env_id"], run["max_episode_steps"]), make_env(run["env_id"], run["max_episode_steps"])
    target = reward_target(env, run["target"])
    gamma = agent.config.gamma
    evaluations = _CSVRows(out / "evaluations.csv", EVALUATION_COLUMNS)

    def measure(agent: DQNAgent, step: int) -> float:
        """10 greedy episodes: their mean return, and what the agent predicted for their first states."""
        returns, discounted, predicted = value_against_return(
            eval_env, agent.act, lambda obs: agent.q_values(obs).max(), gamma, 10, seed=10_000 + step)
        evaluations.write([step, returns.mean(), predicted.mean(), discounted.mean()])
        return float(returns.mean())

    start = time.perf_counter()
    with EpisodeCSV(out / "history.csv") as history_csv:
        every = EvaluateEvery(run["eval_every"], measure=measure, verbose=bool(verbose), start=agent.num_steps)
        agent.train(env, steps, callback=[history_csv, every], verbose=verbose,
                    checkpoint_path=out / "agent.npz", checkpoint_every=run["checkpoint_every"])
    seconds = time.perf_counter() - start
    agent.policy().save(out / "policy.npz")
    returns = agent.evaluate(eval_env, episodes=run["eval_episodes"], seed=123)
    summary = {"env_id": run["env_id"], "env_steps": agent.num_steps, "seconds_this_call": round(seconds, 2),
               "steps_per_second_this_call": round(steps / seconds, 1),
               "final_evaluation": {"episodes": len(returns), "mean": float(returns.mean()),
                                    "std": float(returns.std()), "min": float(returns.min()),
                                    "max": float(returns.max())},
               "target": target, "solved": None if target is None else bool(returns.mean() >= target),
               "returns": returns.tolist()}
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    plot_run(out)
    print(f"trained {steps:,} env steps in {seconds:.1f} s ({steps / seconds:,.0f} steps/s); "
          f"greedy test over {len(returns)} episodes: {spread(returns)}" + verdict(returns, target))
    print(f"wrote {out}/: agent.npz, policy.npz, run.json, history.csv, evaluations.csv, learning_curve.png, "
          "summary.json")
    return summary


def train_new(env_id: str, config: DQNConfig, steps: int, seed: int, out: Path, target: float | None = None,
              max_episode_steps: int | None = None, eval_every: int = 5_000, eval_episodes: int = 20,
              checkpoint_every: int | None = 10_000, verbose: int = 1, source: str = "the settings given",
              overwrite: bool = False) -> dict:
    """A new agent trained on `env_id` into the run folder `out` (train_run): what `minidqn train` does.
    A folder that holds a run already is refused unless `overwrite`; then its run is removed only
    once the env and the new agent have been made."""
    out = check_out_folder(Path(out), overwrite)
    env = make_env(env_id, max_episode_steps)
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=seed)
    run = {"env_id": env_id, "seed": seed, "max_episode_steps": max_episode_steps, "target": target,
           "eval_every": eval_every, "eval_episodes": eval_episodes, "checkpoint_every": checkpoint_every,
           "config": asdict(config)}
    # NOTE: only now, with the env and the agent made, is an old run in the folder replaced.
    out.mkdir(parents=True, exist_ok=True)
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
    text = json.dumps(run, indent=1) + "\n"
    checkpoint.write_atomically(out / "run.json", lambda f: f.write(text.encode()))
    target = reward_target(env, target)
    print(f"{env_id}, from {source}; {steps:,} env steps, seed {seed}; "
          + (f"solved means a greedy mean ≥ {target:g}" if target is not None else "no reward threshold: "
             "returns are reported, no verdict (give --target to set one)"))
    print(config)
    return train_run(agent, run, out, steps, verbose)



def resume_run(path: Path, steps: int, verbose: int = 1, env_id: str | None = None) -> dict:
    """The agent of the run folder at `path` trained `steps` more env steps, its records continued;
    on `env_id` if given (the user's choice), else on the registered env run.json names."""
    out, run = run_folder(path)
    run = {**run, "env_id": env_id_of(env_id, run, out)}
    saved = path if path.suffix == ".npz" else out / "agent.npz"  # the file named, if one was
    agent = DQNAgent.load(saved)
    # NOTE: after a crash the records run past the last checkpoint; the resumed agent replays
    # those episodes, so the rows it is about to write again are dropped first.
    history = History.from_csv(out / "history.csv")
    kept = History()
    for i in range(len(history)):
        if history.episode[i] <= agent.num_episodes:
            kept.append(history[i])
    kept.to_csv(out / "history.csv")  # replaced whole: a kill or a full disk leaves the old file
    rows = [r for r in read_evaluations(out) if r[0] <= agent.num_steps]
    write_csv(out / "evaluations.csv", [EVALUATION_COLUMNS, *([float(v) for v in row] for row in rows)])
    print(f"resuming {run['env_id']} from {saved} at env step {agent.num_steps:,} for {steps:,} more; "
          f"checkpoints go to {out / 'agent.npz'}")
    return train_run(agent, run, out, steps, verbose)


def record(path: Path, gif: Path, seed: int = 0, max_steps: int | None = None, env_id: str | None = None) -> float:
    """Write `gif`, an animation of one greedy episode of the policy at `path`; return its return."""
    from minidqn.pictures import plotting  # matplotlib only for the commands that draw

    policy, run = load_policy(Path(path))
    env_id = env_id_of(env_id, run, path)
    if env_id.startswith("CartPole"):  # drawn from its state with matplotlib: no pygame needed
        env = make_env(env_id, run.get("max_episode_steps"))
        states, total = plotting.record_cartpole(policy, env, seed=seed, max_steps=max_steps)
        plotting.animate_cartpole(states, gif, title=f"greedy DQN on {env_id}: return {total:.0f}")
    elif env_id.startswith("MinAtar/"):  # drawn from its grid with matplotlib's colours
        env, frames = make_env(env_id, run.get("max_episode_steps")), []
        total, length, _ = play_episode(env, policy.act, seed, max_steps,
                                        record=lambda env: frames.append(plotting.grid_frame(env.unwrapped.game.state())))
        plotting.animate_frames(frames, gif, fps=15, every=1, title=f"DQN, {env_id}: return {total:g}, {length} steps")
    else:
        env = make_env(env_id, run.get("max_episode_steps"), render_mode="rgb_array")
        frames = []
        try:
            total, length, _ = play_episode(env, policy.act, seed, max_steps, record=lambda env: frames.append(env.render()))
        except gym.error.DependencyNotInstalled as error:
            raise SystemExit(f"drawing {env_id} needs gymnasium's renderer: {error}") from None
        if not frames or frames[0] is None:
            raise SystemExit(f"{env_id} draws no rgb_array frames, so there is nothing to record")
        plotting.animate_frames(frames, gif, title=f"greedy DQN on {env_id}: return {total:.1f}, {length} steps")
    print(f"wrote {gif}")
    return total



def plot_run(folder: Path, path: Path | None = None, history_csv: Path | None = None) -> Path:
    """Draw folder/learning_curve.png (or `path`) from folder's history.csv (or `history_csv`, a
    record of the same columns anywhere) and, for the folder's own record, its evaluations.csv."""
    from minidqn.pictures.plotting import plot_learning_curve

    own = history_csv is None or history_csv.resolve() == (folder / "history.csv").resolve()
    history = History.from_csv(folder / "history.csv" if history_csv is None else history_csv)
    run = read_run_json(folder)
    rows = read_evaluations(folder) if own else []
    evaluations = [(int(r[0]), r[1]) for r in rows]
    values = [(int(r[0]), r[2], r[3]) for r in rows]
    target = run.get("target")
    if target is None and "env_id" in run:  # the threshold gymnasium has registered, if any: nothing imported
        spec = gym.registry.get(str(run["env_id"]).split(":")[-1])
        target = spec.reward_threshold if spec is not None else None
    path = path or folder / "learning_curve.png"
    plot_learning_curve(history, path, evaluations, target, values=values,
                        title=f"DQN on {run.get('env_id', folder.name)}, seed {run.get('seed', '?')}")
    return path


def load_policy(path: Path) -> tuple[GreedyPolicy, dict]:
    """The greedy policy in a run folder, an agent.npz or a policy.npz, and the run's settings."""
    if path.is_dir():
        policy, agent = path / "policy.npz", path / "agent.npz"
        if policy.exists() and agent.exists() and policy.stat().st_mtime < agent.stat().st_mtime:
            raise ValueError(f"{policy} is older than {agent} (a run stopped before its end writes no new policy); "
                             f"name the file to use: `{agent}` for the agent's latest network, `{policy}` for the older one")
        path = policy if policy.exists() else agent
    print(f"reading {path}")
    kind = checkpoint.kind_of(path)
    policy = GreedyPolicy.load(path) if kind == "GreedyPolicy" else DQNAgent.load(path).policy()
    return policy, read_run_json(path.parent)



RUN_FILES = ("run.json", "agent.npz", "policy.npz", "history.csv", "evaluations.csv", "learning_curve.png",
             "summary.json")  # what a run folder holds


def check_out_folder(out: Path, overwrite: bool) -> Path:
    """`out` if a new run may be written there: a folder of its own, not the current folder, not a
    file, and holding no run unless `overwrite`; a ValueError naming `--out` otherwise."""
    if str(out) in ("", ".") or out.resolve() == Path.cwd().resolve() or out.resolve() == Path(out.anchor or "/"):
        raise ValueError(f"--out {str(out)!r} is not a run folder of its own; name one, like runs/cartpole")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    held = [name for name in RUN_FILES if (out / name).exists()]
    if held and not overwrite:
        raise ValueError(f"--out {out} holds a run already ({', '.join(held)}); pass --overwrite to replace it, "
                         f"or `minidqn resume {out} --steps N` to train it on")
    return out


def run_folder(path: Path) -> tuple[Path, dict]:
    folder = path.parent if path.suffix == ".npz" else path
    if not (folder / "run.json").exists():
        raise FileNotFoundError(f"{folder} holds no run.json: resume needs a folder written by `minidqn train`")
    return folder, read_run_json(folder)


def env_id_of(given: str | None, run: dict, path) -> str:
    """The env to act in: --env-id as the user typed it, else the one run.json beside `path` names,
    which must be registered with gymnasium (nothing read from a folder is imported)."""
    if given is not None:
        return given
    if "env_id" not in run:
        raise ValueError(f"no run.json beside {path} says which env it was trained on: give --env-id")
    return registered_env_id(run["env_id"], Path(path) / "run.json" if Path(path).is_dir() else Path(path).parent / "run.json")


class _CSVRows:
    """Rows of numbers appended to a CSV file and flushed one by one (evaluations.csv)."""

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = path, columns
        if not path.exists() or path.stat().st_size == 0:
            path.write_text(",".join(columns) + "\n")

    def write(self, values) -> None:
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([float(v) for v in values])



def read_evaluations(folder: Path) -> list[list[float]]:
    """The rows of folder/evaluations.csv, one per evaluation during training: env step, greedy mean
    return, predicted value of the first states, discounted return obtained from them ([] if none)."""
    path = Path(folder) / "evaluations.csv"
    if not path.exists():
        return []
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != EVALUATION_COLUMNS:
        raise ValueError(f"{path} is not a minidqn evaluations file: its header should be {','.join(EVALUATION_COLUMNS)}")
    return [[float(v) for v in row] for row in rows[1:] if len(row) == len(EVALUATION_COLUMNS)]


def spread(returns: np.ndarray) -> str:
    return (f"mean {returns.mean():.1f} ± {returns.std():.1f} (std), min {returns.min():.1f}, "
            f"max {returns.max():.1f}")


def verdict(returns: np.ndarray, target: float | None) -> str:
    if target is None:
        return ""
    return f" -> {'SOLVED' if returns.mean() >= target else 'not solved'} (needs a mean ≥ {target:g})"
