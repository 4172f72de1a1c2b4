"""The command line: train DQN on any gymnasium environment, then evaluate, record, resume or plot the run.

    minidqn train LunarLander-v3                 # the env's preset (minidqn.cli.presets), else the defaults
    minidqn train Acrobot-v1 --steps 50000 --lr 5e-4 --out runs/acrobot
    minidqn evaluate runs/acrobot --episodes 50  # greedy returns: mean and std
    minidqn record runs/acrobot --out acrobot.gif
    minidqn resume runs/acrobot --steps 20000    # train on, exactly where it stopped
    minidqn plot runs/acrobot                    # the figures again, from the saved record
    minidqn presets                              # the tuned starting points

`python -m minidqn` is the same command. A run folder holds agent.npz (the whole agent, to
resume), policy.npz (the network alone, to act), run.json (the env and settings), history.csv
(one row per episode, written as each ends), evaluations.csv, learning_curve.png and
summary.json (the final greedy evaluation).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from minidqn.agents.config import DQNConfig
from minidqn.cli.flags import add_config_flags, config_from_args
from minidqn.cli.presets import PRESETS, preset_for
from minidqn.cli.run_folder import (
    env_id_of,
    load_policy,
    make_env,
    plot_run,
    record,
    resume_run,
    reward_target,
    spread,
    train_new,
    verdict,
)
from minidqn.common import checkpoint
from minidqn.training.evaluation import play_episode


# --- the commands ------------------------------------------------------------------------------
def command_train(args: argparse.Namespace) -> dict:
    preset = preset_for(args.env_id)
    return train_new(args.env_id, config_from_args(args, preset.config), args.steps or preset.steps, args.seed,
                     args.out or Path("runs") / args.env_id.replace("/", "_"), args.target, args.max_episode_steps,
                     args.eval_every or preset.eval_every, args.eval_episodes, args.checkpoint_every, args.verbose,
                     source=preset.source, overwrite=args.overwrite)



def command_resume(args: argparse.Namespace) -> dict:
    return resume_run(args.path, args.steps, args.verbose, args.env_id)


# --- evaluate, record, plot --------------------------------------------------------------------
def command_evaluate(args: argparse.Namespace) -> np.ndarray:
    policy, run = load_policy(args.path)
    env = make_env(env_id_of(args.env_id, run, args.path), run.get("max_episode_steps"))
    returns = np.array([play_episode(env, policy.act, args.seed if i == 0 else None)[0] for i in range(args.episodes)])
    target = reward_target(env, args.target if args.target is not None else run.get("target"))
    print(f"{env.spec.id}, greedy, {args.episodes} episodes: {spread(returns)}" + verdict(returns, target))
    return returns


def command_record(args: argparse.Namespace) -> float:
    return record(args.path, args.out, args.seed, args.max_steps, args.env_id)


def command_plot(args: argparse.Namespace) -> Path:
    if args.path.is_dir():  # a run folder, as every other command takes
        out = plot_run(args.path, args.out)
    else:  # a history CSV: exactly that file is drawn
        out = plot_run(args.path.parent, args.out, history_csv=args.path)
    print(f"wrote {out}")
    return out


def command_presets(args: argparse.Namespace) -> None:
    for name, preset in PRESETS.items():
        print(f"{name:<16} {preset.steps:>8,} steps  {preset.source}")


# --- the parser --------------------------------------------------------------------------------
def build_parser(env_id: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `env_id`, train's help shows that env's preset values."""
    parser = argparse.ArgumentParser(prog="minidqn", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    preset = preset_for(env_id) if env_id else None

    train = commands.add_parser("train", help="train DQN on an env (its preset if it has one)",
                                description="Train DQN on a gymnasium env. `minidqn train ENV_ID --help` shows "
                                            "the values that env's preset gives each field.")
    train.add_argument("env_id", help="a gymnasium id, such as CartPole-v1 or LunarLander-v3")
    train.add_argument("--steps", type=_positive, help="env steps of training (default: the preset's budget"
                       + (f", {preset.steps:,}" if preset else "") + ")")
    train.add_argument("--seed", type=_non_negative, default=0)
    train.add_argument("--out", type=Path, help="run folder (default: runs/ENV_ID)")
    train.add_argument("--overwrite", action="store_true", help="replace the run the folder holds already")
    train.add_argument("--target", type=_finite, help="mean greedy return that counts as solved "
                       "(default: the env's reward threshold, if it has one)")
    train.add_argument("--max-episode-steps", "--max_episode_steps", type=_positive, help="change the env's time limit")
    train.add_argument("--eval-every", "--eval_every", type=_positive,
                       help="env steps between greedy evaluations (default: the preset's)")
    train.add_argument("--eval-episodes", "--eval_episodes", type=_positive, default=20,
                       help="greedy episodes of the final evaluation")
    train.add_argument("--checkpoint-every", "--checkpoint_every", type=_positive, default=10_000,
                       help="env steps between checkpoints of agent.npz")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                       help="0 quiet, 1 progress lines, 2 a line per episode")
    add_config_flags(train, DQNConfig, defaults=preset.config if preset else None)

    resume = commands.add_parser("resume", help="train a saved run on, exactly where it stopped")
    resume.add_argument("path", type=Path, help="the run folder (or its agent.npz)")
    resume.add_argument("--steps", type=_positive, required=True, help="env steps to train on")
    resume.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1)
    resume.add_argument("--env-id", "--env_id", help="the env (default: the run's, if gymnasium has it registered)")

    evaluate = commands.add_parser("evaluate", help="greedy returns of a saved agent or policy")
    evaluate.add_argument("path", type=Path, help="a run folder, an agent.npz or a policy.npz")
    evaluate.add_argument("--episodes", type=_positive, default=20)
    evaluate.add_argument("--seed", type=_non_negative, default=0, help="seeds the first reset")
    evaluate.add_argument("--env-id", "--env_id", help="the env (default: the run's)")
    evaluate.add_argument("--target", type=_finite, help="mean return that counts as solved")

    record = commands.add_parser("record", help="an animated GIF of the greedy agent playing one episode")
    record.add_argument("path", type=Path, help="a run folder, an agent.npz or a policy.npz")
    record.add_argument("--out", type=Path, required=True, help="the GIF to write")
    record.add_argument("--seed", type=_non_negative, default=0)
    record.add_argument("--max-steps", "--max_steps", type=_positive, help="stop the episode after this many steps")
    record.add_argument("--env-id", "--env_id", help="the env (default: the run's)")

    plot = commands.add_parser("plot", help="the learning-curve figure of a saved run")
    plot.add_argument("path", type=Path, help="a run folder, or a history CSV")
    plot.add_argument("--out", type=Path, help="the PNG to write (default: beside the CSV)")

    commands.add_parser("presets", help="list the tuned presets")
    return parser


COMMANDS = {"train": command_train, "resume": command_resume, "evaluate": command_evaluate,
            "record": command_record, "plot": command_plot, "presets": command_presets}


def main(argv: list[str] | None = None) -> int:
    """The console script: run the command, exit status 0 (errors exit with their message)."""
    run(argv)
    return 0


def run(argv: list[str] | None = None):
    """Parse `argv` (default: sys.argv[1:]) and run its command; return what the command returns."""
    argv = sys.argv[1:] if argv is None else list(argv)
    env_id = argv[1] if len(argv) > 1 and argv[0] == "train" and not argv[1].startswith("-") else None
    args = build_parser(env_id).parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (checkpoint.CheckpointError, FileNotFoundError, ValueError) as error:
        raise SystemExit(f"minidqn {args.command}: {error}") from None


# --- small helpers -----------------------------------------------------------------------------
def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer ≥ 0, got {text}")
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value
