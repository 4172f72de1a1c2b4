"""The command line: train DQN on any gymnasium environment, then evaluate, record, resume or plot the run, or sweep many.

    minidqn train LunarLander-v3                 # the env's preset (minidqn.cli.presets), else the defaults
    minidqn train Acrobot-v1 --steps 50000 --lr 5e-4 --out runs/acrobot
    minidqn evaluate runs/acrobot --episodes 50  # greedy returns: mean and std
    minidqn record runs/acrobot --out acrobot.gif
    minidqn resume runs/acrobot --steps 20000    # train on, exactly where it stopped
    minidqn plot runs/acrobot                    # the figures again, from the saved record
    minidqn presets                              # the tuned starting points
    minidqn sweep CartPole-v1 --seeds 0-9 --set lr=1e-3,2e-3 --out runs/lr   # trials on Ray (the sweep extra)
    minidqn tune Acrobot-v1 --trials 50 --out runs/tune-acrobot               # an Optuna search (the same extra)

`python -m minidqn` is the same command. A run folder holds agent.npz (the whole agent, to
resume), policy.npz (the network alone, to act), run.json (the env and settings), history.csv
(one row per episode, written as each ends), evaluations.csv, learning_curve.png and
summary.json (the final greedy evaluation).
"""

from __future__ import annotations

import argparse
import difflib
import itertools
import sys
from pathlib import Path

import numpy as np

from minidqn.agents.config import DQNConfig, QLearningConfig
from minidqn.cli.agents import AGENT_NAMES, one_hot_states
from minidqn.cli.experiment_commands import (
    add_experiment_parsers,
    command_sweep,
    command_tune,
)
from minidqn.cli.flags import (
    add_config_flags,
    config_from_args,
    file_of,
    finite,
    non_negative,
    positive,
)
from minidqn.cli.presets import PRESETS, VARIANTS, preset_for
from minidqn.cli.run_folder import (
    plot_run,
    record,
    resume_run,
    spread,
    train_new,
    verdict,
)
from minidqn.cli.run_reading import (
    check_fits,
    env_id_of,
    latest_version,
    load_policy,
    make_env,
    reward_target,
)
from minidqn.training.evaluation import play_episode
from minidqn.training.wrappers import WRAPPERS


# --- the commands ------------------------------------------------------------------------------
def command_train(args: argparse.Namespace) -> dict:
    if args.agent == "tabular":
        return train_new(args.env_id, config_from_args(args, QLearningConfig()), args.steps or TABULAR_STEPS, args.seed,
                         args.out or Path("runs") / (args.env_id.replace("/", "_") + "-tabular"), args.target,
                         args.max_episode_steps, args.eval_every or 10_000, args.eval_episodes, args.checkpoint_every,
                         args.verbose, source="QLearningConfig()", overwrite=args.overwrite, bins=args.bins,
                         wrap=args.wrap)
    if args.bins is not None:
        raise ValueError("--bins cuts observations into a grid for --agent tabular; DQN reads them whole")
    preset = preset_for(args.env_id, args.preset)
    steps = args.steps or preset.steps
    base, rescaled = preset.for_budget(steps, given=set(vars(args)))
    if rescaled:
        print(f"--steps {steps:,} rescales what the {preset.name} preset spreads over its {preset.steps:,} steps: "
              + "; ".join(rescaled))
    return train_new(args.env_id, config_from_args(args, base), steps, args.seed,
                     args.out or Path("runs") / args.env_id.replace("/", "_"), args.target, args.max_episode_steps,
                     args.eval_every or preset.eval_every, args.eval_episodes, args.checkpoint_every, args.verbose,
                     source=preset.source, overwrite=args.overwrite, wrap=args.wrap)


def command_resume(args: argparse.Namespace) -> dict:
    return resume_run(args.path, args.steps, args.verbose, args.env_id)


# --- evaluate, record, plot --------------------------------------------------------------------
def command_evaluate(args: argparse.Namespace) -> np.ndarray:
    policy, run = load_policy(args.path)
    env = make_env(env_id_of(args.env_id, run, args.path), run.get("max_episode_steps"), one_hot=one_hot_states(policy))
    check_fits(policy, env, args.path)
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
def build_parser(env_id: str | None = None, agent: str = "dqn", variant: str = "env") -> argparse.ArgumentParser:
    """The parser; with `env_id`, train's help shows that env's preset values (Rainbow's with
    variant="rainbow"); with agent="tabular", train's flags are the QLearningConfig fields."""
    parser = OneLineParser(prog="minidqn", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    preset = preset_for(env_id, variant) if env_id and agent == "dqn" else None

    train = commands.add_parser("train", help="train DQN (or a Q-table) on an env, from its preset if it has one",
                                description="Train DQN on a gymnasium env. `minidqn train ENV_ID --help` shows "
                                            "the values that env's preset gives each field.")
    add_train_arguments(train, preset, agent)

    resume = commands.add_parser("resume", help="train a saved run on, exactly where it stopped")
    resume.add_argument("path", type=Path, help="the run folder (or its agent.npz)")
    resume.add_argument("--steps", type=positive, required=True, help="env steps to train on")
    resume.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1)
    resume.add_argument("--env-id", "--env_id", help="the env (default: the run's, if gymnasium has it registered)")

    evaluate = commands.add_parser("evaluate", help="greedy returns of a saved agent or policy")
    evaluate.add_argument("path", type=Path, help="a run folder, an agent.npz or a policy.npz")
    evaluate.add_argument("--episodes", type=positive, default=20)
    evaluate.add_argument("--seed", type=non_negative, default=0, help="seeds the first reset")
    evaluate.add_argument("--env-id", "--env_id", help="the env (default: the run's)")
    evaluate.add_argument("--target", type=finite, help="mean return that counts as solved")

    record = commands.add_parser("record", help="an animated GIF of the greedy agent playing one episode")
    record.add_argument("path", type=Path, help="a run folder, an agent.npz or a policy.npz")
    record.add_argument("--out", type=file_of(".gif"), required=True, help="the GIF to write")
    record.add_argument("--seed", type=non_negative, default=0)
    record.add_argument("--max-steps", "--max_steps", type=positive, help="stop the episode after this many steps")
    record.add_argument("--env-id", "--env_id", help="the env (default: the run's)")

    plot = commands.add_parser("plot", help="the learning-curve figure of a saved run")
    plot.add_argument("path", type=Path, help="a run folder, or a history CSV")
    plot.add_argument("--out", type=file_of(".png", ".svg", ".pdf"), help="the figure to write (default: "
                      "learning_curve.png in the run folder)")

    commands.add_parser("presets", help="list the tuned presets")

    add_experiment_parsers(commands)
    return parser


def add_train_arguments(train: argparse.ArgumentParser, preset, agent: str) -> None:
    """train's arguments: the run's, then each field of the agent's config as a flag."""
    train.add_argument("env_id", help="a gymnasium id, such as CartPole-v1 or LunarLander-v3")
    train.add_argument("--steps", type=positive, help="env steps of training (default: the preset's budget"
                       + (f", {preset.steps:,}" if preset else "") + ")")
    train.add_argument("--seed", type=non_negative, default=0)
    train.add_argument("--out", type=Path, help="run folder (default: runs/ENV_ID)")
    train.add_argument("--overwrite", action="store_true", help="replace the run the folder holds already")
    train.add_argument("--preset", choices=VARIANTS, default="env",
                       help="env: the env's own preset; defaults: DQNConfig() and 50,000 steps; rainbow: Rainbow's "
                       "six parts over the env's preset (C51, noisy layers, prioritized replay, 3-step returns, "
                       "Double DQN, dueling)")
    train.add_argument("--target", type=finite, help="mean greedy return that counts as solved "
                       "(default: the env's reward threshold, if it has one)")
    train.add_argument("--max-episode-steps", "--max_episode_steps", type=positive, help="change the env's time limit")
    train.add_argument("--wrap", action="append", default=[], choices=tuple(WRAPPERS), metavar="WRAPPER",
                       help=f"change the training env with a wrapper: {', '.join(WRAPPERS)} (a time limit reported "
                       "as the end of the task, the classic mistake)")
    train.add_argument("--eval-every", "--eval_every", type=positive,
                       help="env steps between greedy evaluations (default: the preset's)")
    train.add_argument("--eval-episodes", "--eval_episodes", type=positive, default=20,
                       help="greedy episodes of the final evaluation")
    train.add_argument("--checkpoint-every", "--checkpoint_every", type=positive, default=10_000,
                       help="env steps between checkpoints of agent.npz (each written at the next episode end)")
    train.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                       help="0 quiet, 1 progress lines, 2 a line per episode")
    train.add_argument("--agent", choices=tuple(AGENT_NAMES), default="dqn",
                       help="dqn, or tabular for Q-learning on a table (`--agent tabular --help` shows its fields)")
    train.add_argument("--bins", type=positive, help="tabular: bins per dimension of a bounded Box observation "
                       "(default: CartPole's measured grid, else 10)")
    add_config_flags(train, AGENT_NAMES.get(agent, DQNConfig), defaults=preset.config if preset else None)


TABULAR_STEPS = 200_000  # a Q-table's default budget: ε and α fall over episodes, and FrozenLake's are short

COMMANDS = {"train": command_train, "resume": command_resume, "evaluate": command_evaluate,
            "record": command_record, "plot": command_plot, "presets": command_presets, "sweep": command_sweep,
            "tune": command_tune}


def main(argv: list[str] | None = None) -> int:
    """The console script: run the command, exit status 0 (errors exit with their message)."""
    run(argv)
    return 0


def run(argv: list[str] | None = None):
    """Parse `argv` (default: sys.argv[1:]) and run its command; return what the command returns.
    An error the user can act on (a bad value, a file that cannot be read or written, a diverged
    run, a second Ctrl-C) ends the program with one line that names it, and no traceback."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) > 1 and argv[0] == "train" and not argv[1].startswith("-"):
        versioned = latest_version(argv[1])  # "CartPole" is CartPole-v1, and gets its preset
        if versioned != argv[1]:
            print(f"{argv[1]} is {versioned}, its latest version")
            argv[1] = versioned
    agent = "tabular" if "--agent=tabular" in argv or ("--agent", "tabular") in itertools.pairwise(argv) else "dqn"
    variant = next((v for v in VARIANTS if f"--preset={v}" in argv or ("--preset", v) in itertools.pairwise(argv)),
                   "env")
    parser = build_parser(argv[1] if argv[:1] == ["train"] and len(argv) > 1 else None, agent, variant)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        refuse_unknown(parser, args.command, unknown)
    try:
        return COMMANDS[args.command](args)
    except (ValueError, TypeError, OSError, FloatingPointError) as error:  # CheckpointError is a ValueError
        raise SystemExit(f"minidqn {args.command}: {describe(error)}") from None
    except KeyboardInterrupt:  # a Ctrl-C outside training, or a second one while the first was handled
        print(f"minidqn {args.command}: interrupted; every file already written is whole (a file being written "
              "was left as it was)", file=sys.stderr)
        raise SystemExit(130) from None


class OneLineParser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors are one line (not the usage of forty flags) that
    names the argument and points to --help."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message}; see `{self.prog} --help`\n")


def refuse_unknown(parser: argparse.ArgumentParser, command: str, unknown: list[str]) -> None:
    """Exit with a usage error naming the arguments `command` does not take, and the flags closest
    to each (--gama: did you mean --gamma?)."""
    sub = next(a for a in parser._subparsers._group_actions).choices[command]
    flags = [flag for action in sub._actions for flag in action.option_strings]
    hints = []
    for word in unknown:
        close = difflib.get_close_matches(word.split("=")[0], flags, n=3, cutoff=0.65) if word.startswith("-") else []
        hints.append(f"{word} (did you mean {' or '.join(close)}?)" if close else word)
    sub.error(f"unrecognized arguments: {', '.join(hints)}")


def describe(error: BaseException) -> str:
    """An error as one line a user can act on: an OSError as its file and reason."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    return str(error)

