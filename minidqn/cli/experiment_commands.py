"""The commands over many runs, `minidqn sweep` and `minidqn tune`: their flags, and what each does with them.

Both need the `sweep` extra (Ray, Optuna); minidqn.cli.sweep and minidqn.cli.tune import it only
when a sweep or a search runs, so the other commands work on the base install.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from minidqn.cli.flags import finite, non_negative, positive
from minidqn.cli.presets import VARIANTS, preset_for
from minidqn.cli.run_reading import latest_version
from minidqn.cli.sweep import __doc__ as sweep_doc
from minidqn.cli.sweep import run_sweep
from minidqn.cli.tune import __doc__ as tune_doc
from minidqn.cli.tune import run_tune
from minidqn.experiments.sweep_spec import (
    parse_seeds,
    parse_set,
    read_sweep_file,
    sweep_trials,
)


def add_experiment_parsers(commands) -> None:
    """Add `sweep` and `tune` to the command line's subcommands."""
    sweep = commands.add_parser("sweep", help="many trials (seeds x config values) on Ray, read with IQM and CIs",
                                description=sweep_doc.split("\n\n")[0])
    sweep.add_argument("spec", help="an env id (its preset is the base), or a sweep's TOML file")
    sweep.add_argument("--seeds", help="such as 0-9 or 0-4,7 (default: 0, or the file's)")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=V1,V2", help="a config field's values")
    sweep.add_argument("--steps", type=positive, help="env steps per trial (default: the file's, else the preset's)")
    sweep.add_argument("--out", type=Path, required=True, help="the sweep's folder")
    sweep.add_argument("--workers", type=positive, help="trials at once on this machine (default: one per core)")
    sweep.add_argument("--address", help="a running Ray cluster: auto, or HOST:PORT")
    sweep.add_argument("--preset", choices=VARIANTS, help="env: the env's preset (default, or the file's); "
                       "defaults: DQNConfig(); rainbow: Rainbow's six parts over the env's preset")
    sweep.add_argument("--eval-every", "--eval_every", type=positive, help="default: the preset's")
    sweep.add_argument("--eval-episodes", "--eval_episodes", type=positive, default=20)
    sweep.add_argument("--target", type=finite, help="mean greedy return that counts as solved "
                       "(default: the env's reward threshold, if it has one)")

    tune = commands.add_parser("tune", help="an Optuna search over DQN's settings, trials on Ray",
                               description=tune_doc.split("\n\n")[0])
    tune.add_argument("env_id")
    tune.add_argument("--trials", type=positive, required=True, help="trials in the study, counting earlier calls'")
    tune.add_argument("--steps", type=positive, help="env steps per trial (default: the preset's budget)")
    tune.add_argument("--out", type=Path, required=True, help="the study's folder (its study.db, trials/, best.json)")
    tune.add_argument("--workers", type=positive, help="trials at once on this machine (default: one per core)")
    tune.add_argument("--address", help="a running Ray cluster: auto, or HOST:PORT")
    tune.add_argument("--preset", choices=VARIANTS, default="env", help="what the search starts from and the "
                      "choice weighs against: the env's preset, DQNConfig(), or Rainbow's six parts over the env's")
    tune.add_argument("--storage", help="an Optuna storage URL to share the study (default: OUT/study.db)")
    tune.add_argument("--seed", type=non_negative, default=0, help="the sampler's seed")
    tune.add_argument("--report-seeds", "--report_seeds", default="20-29", help="unseen seeds for the best")
    tune.add_argument("--objective", choices=("late", "area"), default="late",
                      help="late: the last quarter's evaluations and the final one; area: every evaluation")
    tune.add_argument("--candidates", type=non_negative, default=3, help="the best trials that, with the preset, "
                      "are tried again on --validate-seeds to choose one (0: take the best trial)")
    tune.add_argument("--validate-seeds", "--validate_seeds", default="10-19", help="seeds the choice is made on")
    tune.add_argument("--eval-every", "--eval_every", type=positive, help="default: the preset's")
    tune.add_argument("--trial-seeds", "--trial_seeds", type=positive, default=1,
                      help="seeds each search trial trains on, in turn; its value is the worst of theirs")


BASE_NAMES = {"env": "the preset", "rainbow": "the rainbow preset", "defaults": "the defaults"}  # by --preset


def command_sweep(args: argparse.Namespace) -> list[dict]:
    spec = read_sweep_file(Path(args.spec)) if args.spec.endswith(".toml") else {
        "env_id": latest_version(args.spec), "steps": None, "seeds": [0], "sets": [], "rows": None, "preset": "env"}
    variant = args.preset or spec["preset"]
    preset = preset_for(spec["env_id"], variant)
    steps = args.steps or spec["steps"] or preset.steps
    base, _ = preset.for_budget(steps)
    seeds = parse_seeds(args.seeds) if args.seeds else spec["seeds"]
    trials = sweep_trials(spec["env_id"], base, seeds, spec["sets"] + [parse_set(text) for text in args.set],
                          spec["rows"], BASE_NAMES[variant])
    return run_sweep(trials, steps, args.out, args.workers, args.address, args.eval_every or preset.eval_every,
                     args.eval_episodes, args.target)


def command_tune(args: argparse.Namespace) -> dict:
    env_id = latest_version(args.env_id)
    preset = preset_for(env_id, args.preset)
    steps = args.steps or preset.steps
    return run_tune(env_id, preset.for_budget(steps)[0], args.trials, steps, args.out, args.workers, args.address,
                    args.storage, args.seed, args.eval_every or preset.eval_every, parse_seeds(args.report_seeds),
                    args.objective, args.candidates, parse_seeds(args.validate_seeds), args.trial_seeds)
