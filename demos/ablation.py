"""What each part of DQN buys: the ablation of every part, ten seeds per row, run as one sweep.

The tutorial names Double DQN, dueling heads and prioritized replay as the next steps, and says
the target network and experience replay are what make DQN stable. Each row of
demos/ablation_cartpole.toml changes one thing from DQNConfig() and is trained on every seed:

    plain          no Double DQN, no dueling head, one-step targets, uniform replay
    + double       plain with Double DQN                    (van Hasselt et al., 2016)
    + dueling      plain with the dueling head              (Wang et al., 2016)
    + 3-step       plain with 3-step returns                (Sutton & Barto, ch. 7)
    + prioritized  plain with prioritized replay            (Schaul et al., 2016)
    defaults       double + dueling + 3-step: DQNConfig()
    defaults + PER the defaults with prioritized replay
    no target      the defaults with τ = 1 every step: the target is the online network
    no replay      the defaults with a buffer of one batch: learn from the last 64 steps only
    hard copy      the defaults with a hard copy every 500 gradient steps (Mnih et al., 2015)
    trunc = term   the defaults with time limits stored as terminations (a wrapper on the env)

The trials run as `minidqn sweep` runs them (minidqn.cli.sweep): on Ray, one worker per core
(--workers N) or on a cluster (--address), each trial a run folder under --out, a killed run
picked up where it stopped by the same command. Each is evaluated greedily (10 episodes) every
--eval-every steps: "solved" is the first such mean at the env's threshold, "at the end" the final
20-episode mean still there. The sweep prints its table (IQM with a 95% interval, mean, lowest,
solved, at the end, median steps to solve); the demo adds the picture:

    python demos/ablation.py                                      # CartPole-v1, 10 seeds, every row
    python demos/ablation.py --env-id Acrobot-v1
    python demos/ablation.py --rows plain defaults --seeds 0-2    # a quick look

Expect about half an hour per env on two cores. It writes OUT/results.csv, OUT/summary.md and
OUT/ablation_<env>.png; docs/extensions.md quotes a run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

from minidqn.cli.presets import preset_for
from minidqn.cli.run_reading import read_evaluations
from minidqn.cli.sweep import run_sweep, summary_table
from minidqn.experiments.sweep_spec import (
    configuration,
    parse_seeds,
    read_sweep_file,
    sweep_trials,
)
from minidqn.pictures.plotting import draw_band

ROWS_FILE = Path(__file__).resolve().parent / "ablation_cartpole.toml"
PARTS = ("plain", "+ double", "+ dueling", "+ 3-step", "+ prioritized", "defaults", "defaults + PER")


def plot(env_id: str, curves: dict[str, list[np.ndarray]], steps: np.ndarray, seeds: int, path: Path) -> None:
    """Two panels: the parts alone and together; the defaults without each part. Median and range over seeds."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), dpi=110, sharey=True)
    colors = plt.cm.tab20(np.linspace(0, 1, 20))
    for i, (name, values) in enumerate(curves.items()):
        ax = axes[0] if name in PARTS else axes[1]
        draw_band(ax, steps, np.array(values), name, colors[2 * (i % 10)], center="median")  # values: (seeds, points)
    for ax, title in zip(axes, ("the parts, alone and together", "the tutorial's why: the defaults without each")):
        if gym.spec(env_id).reward_threshold is not None:
            ax.axhline(gym.spec(env_id).reward_threshold, color="gray", ls="--", lw=1)
        ax.set(title=title, xlabel="env steps of training")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right", title="median over seeds; band: lowest to highest", title_fontsize=7)
    axes[0].set_ylabel("greedy return (mean of 10 episodes)")
    fig.suptitle(f"{env_id}: what each part of DQN buys, {seeds} seeds per row")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict]:
    spec = read_sweep_file(ROWS_FILE)
    names = [row.name for row in spec["rows"]]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-id", default=spec["env_id"])
    parser.add_argument("--rows", nargs="+", choices=names, default=names, metavar="ROW",
                        help=f"rows to run, of: {', '.join(names)}")
    parser.add_argument("--seeds", default="0-9", help="such as 0-9 or 0-4,7")
    parser.add_argument("--steps", type=int, default=spec["steps"], help="env steps per trial")
    parser.add_argument("--eval-every", type=int, default=1000, help="env steps between evaluations")
    parser.add_argument("--workers", type=int, help="trials at once on this machine (default: one per core)")
    parser.add_argument("--address", help="a running Ray cluster: auto, or HOST:PORT")
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"), help="the sweep's folder")
    args = parser.parse_args(argv)
    for name in ("steps", "eval_every", "workers"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as error:
        parser.error(str(error))
    # Every row changes DQNConfig(), whatever the env: the ablation is of DQNConfig's parts.
    base, _ = preset_for("").for_budget(args.steps)
    rows = [row for row in spec["rows"] if row.name in args.rows]
    trials = sweep_trials(args.env_id, base, seeds, spec["sets"], rows)
    results = run_sweep(trials, args.steps, args.out, args.workers, args.address, args.eval_every)
    evaluations: dict[str, list[np.ndarray]] = {}  # per row, each finished trial's (points, 4) evaluations.csv
    for trial, result in zip(trials, results):
        if result["status"] == "done":
            rows_read = np.array(read_evaluations(args.out / "trials" / trial.name))
            evaluations.setdefault(configuration(trial), []).append(rows_read)
    points = min(len(e) for runs in evaluations.values() for e in runs)  # the last may be missing
    steps = next(iter(evaluations.values()))[0][:points, 0]  # each at the end of an episode: about every K steps
    curves = {name: [e[:points, 1] for e in runs] for name, runs in evaluations.items()}
    path = args.out / f"ablation_{args.env_id.split('-')[0].lower()}.png"
    plot(args.env_id, curves, steps, len(seeds), path)
    print(f"wrote {path}")
    return summary_table(results, trials)


if __name__ == "__main__":
    main()
