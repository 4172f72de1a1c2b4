"""What each part of DQN buys: the ablation of every part, ten seeds per row, on one budget.

The tutorial names Double DQN, dueling heads and prioritized replay as the next steps, and says
the target network and experience replay are what make DQN stable. Each row below changes one
thing and is trained on --seeds seeds for --steps env steps, measured as demos/benchmark.py
measures a seed (minidqn.experiments.trial): a greedy mean of 10 episodes every --eval-every
steps; "holds": the final 20-episode mean still at the env's threshold; "mean final" and
"lowest": the mean and the lowest of those final means over the seeds:

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

    python demos/ablation.py                                  # CartPole-v1, 10 seeds, every row
    python demos/ablation.py --env-id Acrobot-v1
    python demos/ablation.py --rows plain defaults --seeds 3  # a quick look

Expect about an hour per env on two cores. It prints a line per finished run, then the table,
and writes ablation_<env>.json and ablation_<env>.png in --out; docs/extensions.md quotes a run.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import multiprocessing
from pathlib import Path

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

from minidqn import DQNConfig
from minidqn.experiments.trial import run_seed
from minidqn.pictures.plotting import draw_band


class TruncationAsTermination(gym.Wrapper):
    """The classic mistake: a time limit reported as the end of the task (done = True for both)."""

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, reward, terminated or truncated, False, info


PLAIN = {"double_dqn": False, "dueling": False, "n_step": 1}
ROWS = {  # name: (changes to DQNConfig(), a wrapper for the training env or None)
    "plain": (PLAIN, None),
    "+ double": ({**PLAIN, "double_dqn": True}, None),
    "+ dueling": ({**PLAIN, "dueling": True}, None),
    "+ 3-step": ({**PLAIN, "n_step": 3}, None),
    "+ prioritized": ({**PLAIN, "prioritized_replay": True}, None),
    "defaults": ({}, None),
    "defaults + PER": ({"prioritized_replay": True}, None),
    "no target": ({"tau": 1.0, "target_update_interval": 1}, None),
    "no replay": ({"buffer_size": 64, "batch_size": 64}, None),
    "hard copy": ({"tau": 1.0, "target_update_interval": 500}, None),
    "trunc = term": ({}, TruncationAsTermination),
}


def summarize(name: str, results: list[dict]) -> dict:
    solved = sorted(r["steps_to_solve"] for r in results if r["steps_to_solve"] is not None)
    return {"row": name, "seeds": len(results), "solved": len(solved),
            "median_steps": float(np.median(solved)) if len(solved) == len(results) else None,
            "median_steps_of_solved": float(np.median(solved)) if solved else None,
            "holds": sum(r["final_holds"] for r in results),
            "mean_final": float(np.mean([r["final_mean_20"] for r in results])),
            "lowest_final": float(np.min([r["final_mean_20"] for r in results])),
            "steps_per_second": float(np.median([r["steps_per_second"] for r in results]))}


def plot(env_id: str, rows: dict[str, list[dict]], path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), dpi=110, sharey=True)
    colors = plt.cm.tab20(np.linspace(0, 1, 20))
    for i, (name, results) in enumerate(rows.items()):
        ax = axes[0] if name in ("plain", "+ double", "+ dueling", "+ 3-step", "+ prioritized", "defaults",
                                 "defaults + PER") else axes[1]
        points = min(len(r["evals"]) for r in results)  # one per --eval-every steps (the last may be missing)
        steps = np.array([s for s, _ in results[0]["evals"][:points]])
        values = np.array([[v for _, v in r["evals"][:points]] for r in results])  # (seeds, points)
        draw_band(ax, steps, values, f"{name}", colors[2 * (i % 10)], center="median")
    for ax, title in zip(axes, ("the parts, alone and together", "the tutorial's why: the defaults without each")):
        ax.axhline(gym.spec(env_id).reward_threshold, color="gray", ls="--", lw=1)
        ax.set(title=title, xlabel="env steps of training")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right", title="median over seeds; band: lowest to highest", title_fontsize=7)
    axes[0].set_ylabel("greedy return (mean of 10 episodes)")
    fig.suptitle(f"{env_id}: what each part of DQN buys, {len(next(iter(rows.values())))} seeds per row")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-id", default="CartPole-v1")
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS), metavar="ROW",
                        help=f"rows to run, of: {', '.join(ROWS)}")
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds, 0..N-1")
    parser.add_argument("--steps", type=int, default=50_000, help="env steps per run")
    parser.add_argument("--eval-every", type=int, default=1000, help="K: env steps between evaluations")
    parser.add_argument("--workers", type=int, default=2, help="parallel processes")
    parser.add_argument("--out", type=Path, default=Path("runs/ablation"), help="output folder")
    args = parser.parse_args(argv)
    for name in ("seeds", "steps", "eval_every", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer")
    if gym.spec(args.env_id).reward_threshold is None:
        parser.error(f"--env-id {args.env_id} has no reward threshold to call a run solved")
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [{"row": name, "config": dataclasses.asdict(dataclasses.replace(DQNConfig(), **ROWS[name][0])),
             "wrap": ROWS[name][1], "seed": seed, "env_id": args.env_id, "steps": args.steps,
             "eval_every": args.eval_every} for name in args.rows for seed in range(args.seeds)]
    rows: dict[str, list[dict]] = {name: [] for name in args.rows}
    parallel = multiprocessing.get_context("spawn").Pool(args.workers) if args.workers > 1 else None
    with parallel or contextlib.nullcontext():
        for job, result in zip(jobs, parallel.imap(run_seed, jobs) if parallel else map(run_seed, jobs)):
            rows[job["row"]].append(result)
            print(f"{job['row']:<15} seed {job['seed']}: solved at {result['steps_to_solve']}, "
                  f"final {result['final_mean_20']:.1f}, {result['steps_per_second']:,.0f} steps/s", flush=True)
    table = [summarize(name, results) for name, results in rows.items()]
    print(f"\n{args.env_id}, {args.seeds} seeds, {args.steps:,} steps each")
    print(f"{'row':<15} {'solved':>6} {'median steps':>12} {'holds':>5} {'steps/s':>8} {'mean final':>10} "
          f"{'lowest':>7}")
    for t in table:
        median = t["median_steps"] if t["median_steps"] is not None else t["median_steps_of_solved"]
        shown = "n/a" if median is None else f"{median:,.0f}" + ("" if t["median_steps"] is not None else "*")
        print(f"{t['row']:<15} {t['solved']:>4}/{t['seeds']} {shown:>12} {t['holds']:>3}/{t['seeds']} "
              f"{t['steps_per_second']:>8,.0f} {t['mean_final']:>10.1f} {t['lowest_final']:>7.1f}")
    print("* the median of the seeds that solved")
    name = args.env_id.split("-")[0].lower()
    report = {"env_id": args.env_id, "args": {k: str(v) for k, v in vars(args).items()}, "table": table,
              "runs": {row: results for row, results in rows.items()}}
    (args.out / f"ablation_{name}.json").write_text(json.dumps(report, indent=1))
    plot(args.env_id, rows, args.out / f"ablation_{name}.png")
    print(f"wrote {args.out / f'ablation_{name}.json'} and {args.out / f'ablation_{name}.png'}")
    return report


if __name__ == "__main__":
    main()
