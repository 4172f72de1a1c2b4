"""A run folder: train an agent into it, resume it, draw it, and read it back.

A run folder holds agent.npz (the whole agent, to resume), policy.npz (the network alone, to act),
run.json (the env and settings), history.csv (one row per episode, written as each ends),
evaluations.csv, learning_curve.png and summary.json (the final greedy evaluation). The command
line (minidqn.cli.commands) and the demos work through these functions.
"""

from __future__ import annotations

import csv
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import gymnasium as gym
import numpy as np

from minidqn.agents.config import DQNConfig, QLearningConfig
from minidqn.agents.dqn import DQNAgent
from minidqn.agents.tabular import QLearningAgent
from minidqn.cli.agents import (
    greedy_policy,
    load_agent,
    make_agent,
    one_hot_states,
    value_function,
)
from minidqn.cli.folder_lock import FolderLock
from minidqn.cli.run_files import (
    RUN_FILES,
    check_out_folder,
    put_back,
    refuse_link,
    refuse_links,
    set_aside,
    write_json,
)
from minidqn.cli.run_reading import (
    EVALUATION_COLUMNS,
    check_fits,
    env_id_of,
    load_policy,
    make_env,
    read_evaluations,
    read_run_json,
    reward_target,
    run_folder,
)
from minidqn.cli.tensorboard import tensorboard_for
from minidqn.training.evaluation import (
    EvaluateEvery,
    play_episode,
    value_against_return,
)
from minidqn.training.history import EpisodeCSV, History, write_csv
from minidqn.training.wrappers import check_wrappers, wrap_env


# --- train and resume --------------------------------------------------------------------------
def train_run(agent: DQNAgent | QLearningAgent, run: dict, out: Path, steps: int, verbose: int = 1,
              keep_going=None) -> dict:
    """Train `agent` for `steps` env steps on run["env_id"], writing everything to `out` as it goes;
    return the summary also written to out/summary.json. `keep_going(step, mean_return)`, if
    given, hears every evaluation during training, and stops it by returning False (a search
    pruning a trial); the run then ends as a Ctrl-C ends it."""
    env, eval_env = (make_env(run["env_id"], run["max_episode_steps"], one_hot=one_hot_states(agent)) for _ in "ab")
    env = wrap_env(env, run.get("wrap", []))  # the training env only: the agent is measured on the env as it is
    target = reward_target(env, run["target"])
    gamma = agent.config.gamma
    evaluations = _CSVRows(out / "evaluations.csv", EVALUATION_COLUMNS)
    stop = []  # the step at which keep_going said stop, if it did

    def measure(agent: DQNAgent | QLearningAgent, step: int) -> float:
        """10 greedy episodes: their mean return, and what the agent predicted for their first states."""
        returns, discounted, predicted = value_against_return(
            eval_env, greedy_policy(agent).act, value_function(agent), gamma, 10, seed=10_000 + step)
        evaluations.write([step, returns.mean(), predicted.mean(), discounted.mean()])
        if keep_going is not None and keep_going(step, float(returns.mean())) is False:
            stop.append(step)
        return float(returns.mean())

    start, first_step = time.perf_counter(), agent.num_steps
    events = tensorboard_for(out)  # TensorBoard's event files, if the sweep extra is installed
    with EpisodeCSV(out / "history.csv") as history_csv:
        every = EvaluateEvery(run["eval_every"], measure=measure, verbose=bool(verbose), start=agent.num_steps)
        try:
            agent.train(env, steps, callback=[history_csv, every, *([events] if events else []), lambda *_: not stop],
                        verbose=verbose,
                        checkpoint_path=out / "agent.npz", checkpoint_every=run["checkpoint_every"])
        finally:
            if events:
                events.close()
    seconds, trained = time.perf_counter() - start, agent.num_steps - first_step
    summary = {"env_id": run["env_id"], "env_steps": agent.num_steps, "trained_this_call": trained,
               "steps_asked_this_call": steps, "seconds_this_call": round(seconds, 2),
               "steps_per_second_this_call": round(trained / seconds, 1), "target": target}
    if trained < steps:  # Ctrl-C, or keep_going said stop: train() saved agent.npz and returned; stop here
        summary |= {"interrupted": True, "final_evaluation": None, "solved": None}
        write_json(out / "summary.json", summary)
        print(f"stopped at env step {agent.num_steps:,} after {trained:,} of {steps:,} steps ({steps - trained:,} "
              f"left); {out / 'agent.npz'} holds the agent. To train on: minidqn resume {out} --steps {steps - trained}")
        return summary
    if isinstance(agent, DQNAgent):  # the network alone, to act; a table's agent.npz is already small
        agent.policy().save(out / "policy.npz")
    returns = agent.evaluate(eval_env, episodes=run["eval_episodes"], seed=123)
    summary |= {"interrupted": False,
                "final_evaluation": {"episodes": len(returns), "mean": float(returns.mean()),
                                     "std": float(returns.std()), "min": float(returns.min()),
                                     "max": float(returns.max())},
                "solved": None if target is None else bool(returns.mean() >= target), "returns": returns.tolist()}
    write_json(out / "summary.json", summary)
    plot_run(out)
    print(f"trained {steps:,} env steps in {seconds:.1f} s ({steps / seconds:,.0f} steps/s); "
          f"greedy test over {len(returns)} episodes: {spread(returns)}" + verdict(returns, target))
    print(f"wrote {out}/: " + ", ".join(name for name in RUN_FILES if (out / name).exists()))
    return summary


def train_new(env_id: str, config: DQNConfig | QLearningConfig, steps: int, seed: int, out: Path,
              target: float | None = None, max_episode_steps: int | None = None, eval_every: int = 5_000,
              eval_episodes: int = 20, checkpoint_every: int | None = 10_000, verbose: int = 1,
              source: str = "the settings given", overwrite: bool = False, bins: int | None = None,
              keep_going=None, wrap: Sequence[str] = ()) -> dict:
    """A new agent (DQN for a DQNConfig, a Q-table for a QLearningConfig) trained on `env_id` into
    the run folder `out` (train_run): what `minidqn train` does. `wrap` names wrappers of the
    training env (minidqn.training.wrappers). A folder that holds a run already is refused unless
    `overwrite`; then its run is removed only once the env and the new agent have been made, and
    the folder's lock is held."""
    out, wrap = check_out_folder(Path(out), overwrite), check_wrappers(wrap)
    env = make_env(env_id, max_episode_steps, one_hot=isinstance(config, DQNConfig))
    agent = make_agent(env, config, seed, bins)
    run = {"env_id": env_id, "agent": "dqn" if isinstance(config, DQNConfig) else "tabular", "seed": seed,
           "max_episode_steps": max_episode_steps, "target": target, "eval_every": eval_every,
           "eval_episodes": eval_episodes, "checkpoint_every": checkpoint_every, "wrap": wrap, "config": asdict(config)}
    warn_if_cannot_learn(config, steps, env.spec.max_episode_steps if env.spec is not None else None)
    out.mkdir(parents=True, exist_ok=True)
    with FolderLock(out, f"minidqn train {env_id} --steps {steps}"):
        # NOTE: only now, with the env and the agent made and the folder ours alone, is an old run
        # in it replaced: set aside, and put back if the new run fails before its first checkpoint.
        check_out_folder(out, overwrite)
        aside = set_aside(out)
        try:
            write_json(out / "run.json", run)
            target = reward_target(env, target)
            print(f"{env_id}" + "".join(f" inside {name}" for name in wrap) + f", from {source}; {steps:,} env steps, "
                  f"seed {seed}; "
                  + (f"solved means a greedy mean ≥ {target:g}" if target is not None else "no reward threshold: "
                     "returns are reported, no verdict (give --target to set one)"))
            print(config)
            return train_run(agent, run, out, steps, verbose, keep_going)
        except BaseException:
            if aside is not None and aside.exists() and not (out / "agent.npz").exists():
                put_back(out, aside)
                print(f"the new run failed before its first checkpoint: the run that was in {out} is put back")
            raise
        finally:
            if aside is not None:
                shutil.rmtree(aside, ignore_errors=True)


def resume_run(path: Path, steps: int, verbose: int = 1, env_id: str | None = None) -> dict:
    """The agent of the run folder at `path` trained `steps` more env steps, its records continued;
    on `env_id` if given (the user's choice), else on the registered env run.json names."""
    out, run = run_folder(path)
    with FolderLock(out, f"minidqn resume {out} --steps {steps}"):
        refuse_links(out)
        run = {**run, "env_id": env_id_of(env_id, run, out)}
        saved = path if path.suffix == ".npz" else out / "agent.npz"  # the file named, if one was
        agent = load_agent(saved)
        check_fits(greedy_policy(agent), make_env(run["env_id"], run["max_episode_steps"],
                                                  one_hot=one_hot_states(agent)), saved)
        warn_if_cannot_learn(agent.config, steps, None, already=agent.num_steps)
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

    refuse_link(Path(gif))
    if not Path(gif).parent.is_dir():  # said now, not after the episode has been played
        raise ValueError(f"--out {gif}: the folder {Path(gif).parent} does not exist")
    policy, run = load_policy(Path(path))
    env_id = env_id_of(env_id, run, path)
    drawn_here = env_id.startswith(("CartPole", "MinAtar/"))  # by matplotlib, from the env's state: no pygame
    env = make_env(env_id, run.get("max_episode_steps"), render_mode=None if drawn_here else "rgb_array",
                   one_hot=one_hot_states(policy))
    check_fits(policy, env, path)
    if env_id.startswith("CartPole"):
        states, total = plotting.record_cartpole(policy, env, seed=seed, max_steps=max_steps)
        plotting.animate_cartpole(states, gif, title=f"greedy DQN on {env_id}: return {total:.0f}")
    elif env_id.startswith("MinAtar/"):  # drawn from its grid with matplotlib's colours
        frames = []
        total, length, _ = play_episode(env, policy.act, seed, max_steps,
                                        record=lambda env: frames.append(plotting.grid_frame(env.unwrapped.game.state())))
        plotting.animate_frames(frames, gif, fps=15, every=1, title=f"DQN, {env_id}: return {total:g}, {length} steps")
    else:
        frames = []
        try:
            total, length, _ = play_episode(env, policy.act, seed, max_steps, record=lambda env: frames.append(env.render()))
        except gym.error.DependencyNotInstalled:
            raise ValueError(f"drawing {env_id} needs pygame, which gymnasium draws with: "
                             'pip install -e ".[record]"') from None
        if not frames or frames[0] is None:
            raise ValueError(f"{env_id} draws no rgb_array frames, so there is nothing to record")
        plotting.animate_frames(frames, gif, title=f"greedy DQN on {env_id}: return {total:.1f}, {length} steps")
    print(f"wrote {gif}")
    return total



def plot_run(folder: Path, path: Path | None = None, history_csv: Path | None = None) -> Path:
    """Draw folder/learning_curve.png (or `path`) from folder's history.csv (or `history_csv`, a
    record of the same columns anywhere) and, for the folder's own record, its evaluations.csv."""
    from minidqn.pictures.plotting import plot_learning_curve

    refuse_link(path or folder / "learning_curve.png")
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


def warn_if_cannot_learn(config: DQNConfig | QLearningConfig, steps: int, time_limit: int | None,
                         already: int = 0) -> None:
    """Say, before training, when `steps` more env steps (after `already`) cannot train DQN: no
    gradient step before the end, or n-step returns longer than every episode."""
    if not isinstance(config, DQNConfig):
        return  # a table learns from its first step
    if already + steps <= config.learning_starts:
        print(f"warning: learning_starts is {config.learning_starts:,} env steps, so {steps:,} steps end before "
              "the first gradient step; the agent will not learn (lower --learning-starts or raise --steps)")
    if time_limit is not None and config.n_step > time_limit:
        print(f"warning: n_step {config.n_step} is longer than the env's time limit of {time_limit} steps, so "
              "every return is cut short by the episode's end before n steps")


class _CSVRows:
    """Rows of numbers appended to a CSV file and flushed one by one (evaluations.csv)."""

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = path, columns
        if not path.exists() or path.stat().st_size == 0:
            path.write_text(",".join(columns) + "\n")

    def write(self, values) -> None:
        with open(self.path, "a", newline="") as f:
            csv.writer(f).writerow([float(v) for v in values])



def spread(returns: np.ndarray) -> str:
    return (f"mean {returns.mean():.1f} ± {returns.std():.1f} (std), min {returns.min():.1f}, "
            f"max {returns.max():.1f}")


def verdict(returns: np.ndarray, target: float | None) -> str:
    if target is None:
        return ""
    return f" -> {'SOLVED' if returns.mean() >= target else 'not solved'} (needs a mean ≥ {target:g})"
