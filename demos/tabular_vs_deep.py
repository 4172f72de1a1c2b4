"""Tabular Q-learning against DQN on the same env-step budget: what the network buys, and at what cost.

What it shows. Part A, CartPole-v1: tabular Q-learning on the 480-state grid of
Discretizer.for_cartpole() beside DQN on the raw 4 numbers, over --seeds seeds, each agent
trained for --steps env steps. Every --eval-every env steps (at the first episode end past each
multiple) both agents play --eval-episodes greedy episodes on the same seeds; the plot shows the
mean over seeds with a min–max band. The table gives the env steps at which the greedy mean
first reached 195 and 475, the final greedy return (--final-episodes episodes), the seconds of
training (evaluation excluded), and memory: the Q-table's cells and the fraction ever updated,
against the network's parameters and the replay buffer's transitions. Part B, FrozenLake-v1
(4×4, slippery): tabular Q-learning, DQN on one-hot states, and value iteration's optimal policy
as a horizontal line. There the greedy success rate is computed exactly from the lake's model
(minidqn.value_iteration.evaluate_policy_exactly), so its curve has no sampling noise.

    python demos/tabular_vs_deep.py                           # both parts, 3 seeds, 50,000 steps
    python demos/tabular_vs_deep.py --part frozenlake --seeds 5
    python demos/tabular_vs_deep.py --dqn.lr 5e-4 --tabular.alpha_end 0.05    # config fields

Configs. DQN uses DQNConfig() in both parts, except that on FrozenLake its γ is set to value
iteration's (the tabular config's), so the optimum drawn is the optimum of the problem DQN
solves; its ε falls linearly over the
first 10% of the steps (5,000 of 50,000: several hundred mostly random episodes), which reach
the goal often enough to start from, although a random walk reaches it in only about 1.5% of
episodes. Tabular Q-learning uses QLearningConfig() on FrozenLake, and on CartPole the settings
that docs/tabular.md measured there (CARTPOLE_TABULAR below). `--dqn.<field>` and
`--tabular.<field>` change a field in both parts.

Expected (under 2 minutes on one core, nearly all of it DQN): a line per agent and seed, then
the tables. CartPole: DQN first reaches a greedy mean of 195 at 2,000–3,000 env steps, the table
at 4,000–14,000; both touch 475 on every seed and DQN ends at 500 on every seed, the table at
165–494, with about 1 s of training per seed for the table and 11–12 s for DQN; about half of the
table's 960 cells are ever visited. FrozenLake: the optimum succeeds 74.0% of the time; the
table comes within 2 points of it after 12,000–23,000 env steps and still wobbles at the end;
DQN with the defaults' 3-step returns after 10,000–15,000 on two seeds and never on the third
(ending at 71–74%), and with --dqn.n_step 1 after 2,000–6,000 on all three, ending there.
It writes tabular_vs_deep_cartpole.png, tabular_vs_deep_frozenlake.png
(copied to docs/) and tabular_vs_deep.json in --out. docs/tabular.md, "Tabular vs deep",
explains the result.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # tiny matrices: a second BLAS thread only hurts

import argparse
import dataclasses
import json
import time
from pathlib import Path

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
from gymnasium.wrappers import FlattenObservation
from matplotlib.ticker import PercentFormatter

from minidqn.cli import add_config_flags, config_from_args
from minidqn.dqn import DQNAgent, DQNConfig
from minidqn.plotting import draw_band
from minidqn.tabular import (
    Discretizer,
    QLearningAgent,
    QLearningConfig,
    value_iteration,
)
from minidqn.value_iteration import evaluate_policy_exactly

# The CartPole settings of docs/tabular.md ("Other measurements"): with them the table balanced
# the pole greedily for 500 steps on 3 of 3 seeds, after about 600,000 env steps.
CARTPOLE_TABULAR = QLearningConfig(alpha_start=0.2, alpha_end=0.05, alpha_decay_episodes=2000,
                                   epsilon_decay_episodes=1000, epsilon_end=0.01)
THRESHOLDS = (195.0, 475.0)  # CartPole-v0's and v1's "solved" mean returns
WITHIN = 0.02  # FrozenLake: success within 2 percentage points of the optimum (issue 4's target)


class EvaluationClock:
    """The training callback: at the first episode end at or after each point of `grid`, call
    `measure(agent, k)` (k: the point's index) and keep the value for every point passed; stop
    training once `budget` env steps are done. Seconds spent measuring are kept apart."""

    def __init__(self, grid: np.ndarray, budget: int, measure):
        self.grid, self.budget, self.measure = grid, budget, measure
        self.values = [np.nan] * len(grid)  # (T,) the measurement credited to each point
        self.steps = [0] * len(grid)  # (T,) the env step at which it was really taken
        self.next = 0  # index of the next point to measure
        self.seconds = 0.0

    def __call__(self, agent, step: int) -> bool:
        if self.next < len(self.grid) and step >= self.grid[self.next]:
            start = time.perf_counter()
            value = self.measure(agent, self.next)
            self.seconds += time.perf_counter() - start
            while self.next < len(self.grid) and step >= self.grid[self.next]:
                self.values[self.next], self.steps[self.next] = value, step
                self.next += 1
        return step < self.budget


def first_step_at_least(clock: EvaluationClock, threshold: float) -> int | None:
    """The env step of the first measurement ≥ threshold, or None if none reached it."""
    return next((s for s, v in zip(clock.steps, clock.values) if v >= threshold), None)


def train_measured(agent, env, budget: int, clock: EvaluationClock) -> dict:
    """Train up to `budget` env steps with `clock` as the callback; return the training seconds
    and where the schedules stand at the end: episodes, ε and the step size (α, or Adam's lr)."""
    clock(agent, 0)  # the untrained agent, at step 0
    measured_before = clock.seconds
    start = time.perf_counter()
    if isinstance(agent, QLearningAgent):
        # The table trains by episodes; the clock's callback stops it at the first episode end
        # at or past the budget (at most one episode over).
        agent.train(env, episodes=10**9, callback=clock, verbose=0)
        steps = agent.env_steps
    else:
        agent.train(env, budget, callback=clock, verbose=0)
        steps = agent.num_steps
    seconds = time.perf_counter() - start - (clock.seconds - measured_before)
    clock(agent, steps)  # DQN stops mid-episode at the budget: measure the last point now
    if isinstance(agent, QLearningAgent):
        k = agent.episodes_done  # the tabular schedules count episodes
        schedules = (k, agent.epsilon_schedule(k), agent.alpha_schedule(k))
    else:
        schedules = (agent.num_episodes, agent.epsilon(), agent.learning_rate())
    return {"train_seconds": seconds, **dict(zip(("episodes", "final_epsilon", "final_step_size"), schedules))}


def _schedules(row: dict) -> str:
    step_size = "α" if row["agent"] == "tabular" else "lr"
    return (f"{row['episodes']:,} episodes, ending with ε {row['final_epsilon']:.2f}, "
            f"{step_size} {row['final_step_size']:.2g}")


def run_cartpole(args, dqn_config: DQNConfig, tabular_config: QLearningConfig) -> dict:
    grid = np.unique(np.r_[np.arange(0, args.steps + 1, args.eval_every), args.steps])  # (T,)
    curves, rows = {"tabular": [], "dqn": []}, []
    for seed in range(args.seeds):
        for kind in ("tabular", "dqn"):
            row, curve = train_cartpole(kind, seed, grid, args, dqn_config, tabular_config)
            rows.append(row)
            curves[kind].append(curve)
    print_cartpole_table(rows, args)
    plot_cartpole(grid, curves, args)
    return {"grid": grid.tolist(), "curves": curves, "table": rows}


def train_cartpole(kind: str, seed: int, grid: np.ndarray, args, dqn_config: DQNConfig,
                   tabular_config: QLearningConfig) -> tuple[dict, list[float]]:
    """One agent on CartPole-v1: its row of the table and its curve of greedy means."""
    env, eval_env = gym.make("CartPole-v1"), gym.make("CartPole-v1")
    if kind == "tabular":
        agent = QLearningAgent(env.observation_space, env.action_space, tabular_config, seed=seed,
                               discretizer=Discretizer.for_cartpole())
    else:
        agent = DQNAgent(env.observation_space, env.action_space, dqn_config, seed=seed)

    def greedy_mean(agent, k: int) -> float:
        # Both agents play the same seeded episodes at point k (common random numbers).
        episodes = agent.evaluate(eval_env, args.eval_episodes, seed=10_000 + 1_000 * seed + k)
        return float(episodes.mean())

    clock = EvaluationClock(grid, args.steps, greedy_mean)
    trained = train_measured(agent, env, args.steps, clock)
    seconds = trained["train_seconds"]
    final = agent.evaluate(eval_env, args.final_episodes, seed=100_000 + seed)
    row = {"agent": kind, "seed": seed, "env_steps": clock.steps[-1], **trained,
           "steps_to_195": first_step_at_least(clock, THRESHOLDS[0]),
           "steps_to_475": first_step_at_least(clock, THRESHOLDS[1]),
           "final_return": float(final.mean()), "final_return_std": float(final.std()),
           "eval_seconds": clock.seconds, "q_table_cells": None, "visited_cell_fraction": None,
           "network_params": None, "replay_transitions": None}
    if kind == "tabular":
        # NOTE: every CartPole reward is +1, so one update makes a cell's Q positive: a cell that
        # is still exactly 0 was never updated, i.e. never visited.
        row.update(q_table_cells=agent.q.size, visited_cell_fraction=float(np.mean(agent.q != 0)))
    else:
        row.update(network_params=agent.online.num_params, replay_transitions=len(agent.buffer))
    print(f"CartPole seed {seed} {kind:<7}: {row['env_steps']:,} env steps in {seconds:.1f} s "
          f"(+{clock.seconds:.1f} s evaluating); steps to 195: {_steps(row['steps_to_195'])}, "
          f"to 475: {_steps(row['steps_to_475'])}; final greedy {row['final_return']:.1f}; "
          f"{_schedules(row)}", flush=True)
    return row, clock.values


def run_frozenlake(args, dqn_config: DQNConfig, tabular_config: QLearningConfig) -> dict:
    lake = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True)  # the model; 100-step limit
    _, _, optimal_policy = value_iteration(lake, gamma=tabular_config.gamma)
    optimum = success_rate(lake, optimal_policy)
    print(f"FrozenLake: value iteration's optimal policy succeeds {100 * optimum:.2f}% of the "
          f"time within the 100-step limit (exact)")
    grid = np.unique(np.r_[np.arange(0, args.steps + 1, args.eval_every), args.steps])  # (T,)
    curves, rows = {"tabular": [], "dqn": []}, []
    for seed in range(args.seeds):
        for kind in ("tabular", "dqn"):
            row, curve = train_frozenlake(kind, seed, grid, optimum, args, dqn_config, tabular_config)
            rows.append(row)
            curves[kind].append(curve)
    print_frozenlake_table(rows)
    plot_frozenlake(grid, curves, optimum, args)
    return {"grid": grid.tolist(), "curves": curves, "optimal_success": optimum, "table": rows}


def success_rate(lake: gym.Env, policy: np.ndarray) -> float:
    """The exact probability that `policy` reaches the goal within the lake's time limit."""
    start_distribution = lake.unwrapped.initial_state_distrib  # (S,): all of it on state 0
    return float(start_distribution @ evaluate_policy_exactly(lake, policy))


def train_frozenlake(kind: str, seed: int, grid: np.ndarray, optimum: float, args,
                     dqn_config: DQNConfig, tabular_config: QLearningConfig) -> tuple[dict, list[float]]:
    """One agent on FrozenLake-v1: its row of the table and its curve of exact success rates."""
    lake = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True)
    if kind == "tabular":
        env = lake
        agent = QLearningAgent(env.observation_space, env.action_space, tabular_config, seed=seed)
    else:
        env = FlattenObservation(lake)  # the Discrete(16) state s becomes the one-hot vector e_s
        # The same γ as value iteration, so the optimum drawn is the optimum of DQN's problem too.
        config = dataclasses.replace(dqn_config, gamma=tabular_config.gamma)
        agent = DQNAgent(env.observation_space, env.action_space, config, seed=seed)
    one_hot_states = np.eye(lake.observation_space.n)  # (S, S): row s is e_s

    def greedy_success(agent, k: int) -> float:
        if kind == "tabular":
            # A generator of its own for the ties, so measuring never draws from the training one.
            policy = agent.greedy_policy(np.random.default_rng(k))  # (S,)
        else:
            policy = agent.q_values(one_hot_states).argmax(axis=1)  # (S, S) → (S, A) → (S,)
        return success_rate(lake, policy)

    clock = EvaluationClock(grid, args.steps, greedy_success)
    trained = train_measured(agent, env, args.steps, clock)
    seconds = trained["train_seconds"]
    row = {"agent": kind, "seed": seed, "env_steps": clock.steps[-1], **trained,
           "steps_to_optimum": first_step_at_least(clock, optimum - WITHIN),
           "final_success": clock.values[-1], "optimal_success": optimum,
           "eval_seconds": clock.seconds, "q_table_cells": agent.q.size if kind == "tabular" else None,
           "network_params": agent.online.num_params if kind == "dqn" else None}
    print(f"FrozenLake seed {seed} {kind:<7}: {row['env_steps']:,} env steps in {seconds:.1f} s; "
          f"steps to within {100 * WITHIN:.0f} points of the optimum: "
          f"{_steps(row['steps_to_optimum'])}; final greedy success {100 * row['final_success']:.1f}%; "
          f"{_schedules(row)}", flush=True)
    return row, clock.values


def _steps(value: int | None) -> str:
    return "never" if value is None else f"{value:,}"


def _median_steps(values: list) -> str:
    reached = [v for v in values if v is not None]
    median = f", median {np.median(reached):,.0f}" if len(reached) == len(values) else ""
    return f"{len(reached)}/{len(values)}{median}"


def print_cartpole_table(rows: list[dict], args) -> None:
    print(f"\nCartPole-v1, {args.steps:,} env steps per run; greedy means of {args.eval_episodes} "
          f"episodes every {args.eval_every:,} steps, final of {args.final_episodes}")
    print(f"{'agent':<8} {'seed':>4} {'steps to 195':>12} {'steps to 475':>12} {'final greedy':>14} "
          f"{'train s':>7}  memory")
    for r in rows:
        if r["agent"] == "tabular":
            memory = f"{r['q_table_cells']:,} table cells, {100 * r['visited_cell_fraction']:.0f}% visited"
        else:
            memory = f"{r['network_params']:,} parameters + {r['replay_transitions']:,} replayed transitions"
        print(f"{r['agent']:<8} {r['seed']:>4} {_steps(r['steps_to_195']):>12} "
              f"{_steps(r['steps_to_475']):>12} {r['final_return']:>6.1f} ± {r['final_return_std']:5.1f} "
              f"{r['train_seconds']:>7.1f}  {memory}")
    for kind in ("tabular", "dqn"):
        mine = [r for r in rows if r["agent"] == kind]
        finals = [r["final_return"] for r in mine]
        print(f"{kind}: reached 195 on {_median_steps([r['steps_to_195'] for r in mine])}; "
              f"475 on {_median_steps([r['steps_to_475'] for r in mine])}; final greedy "
              f"{np.mean(finals):.1f} (seeds {min(finals):.1f}–{max(finals):.1f}); "
              f"{np.mean([r['train_seconds'] for r in mine]):.1f} s of training per seed")


def print_frozenlake_table(rows: list[dict]) -> None:
    print(f"\nFrozenLake-v1 4×4 slippery; success rates exact; optimum {100 * rows[0]['optimal_success']:.2f}%")
    print(f"{'agent':<8} {'seed':>4} {'steps to optimum±2':>18} {'final success':>13} {'train s':>7}  memory")
    for r in rows:
        memory = (f"{r['q_table_cells']} table cells" if r["agent"] == "tabular"
                  else f"{r['network_params']:,} parameters")
        print(f"{r['agent']:<8} {r['seed']:>4} {_steps(r['steps_to_optimum']):>18} "
              f"{100 * r['final_success']:>12.1f}% {r['train_seconds']:>7.1f}  {memory}")
    for kind in ("tabular", "dqn"):
        mine = [r for r in rows if r["agent"] == kind]
        print(f"{kind}: within 2 points of the optimum on {_median_steps([r['steps_to_optimum'] for r in mine])}; "
              f"{np.mean([r['train_seconds'] for r in mine]):.1f} s of training per seed")


LABELS = {"tabular": "tabular Q-learning", "dqn": "DQN"}
COLORS = {"tabular": "tab:orange", "dqn": "tab:blue"}


def plot_cartpole(grid: np.ndarray, curves: dict, args) -> None:
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for kind in ("tabular", "dqn"):
        draw_band(ax, grid, np.array(curves[kind]), LABELS[kind], COLORS[kind])
    for threshold, style in zip(THRESHOLDS, (":", "--")):
        ax.axhline(threshold, color="gray", ls=style, lw=1, label=f"greedy mean {threshold:g}")
    ax.set_ylim(0, 520)
    ax.set_xlabel("env steps of training")
    ax.set_ylabel(f"greedy return (mean of {args.eval_episodes} episodes)")
    ax.set_title(f"CartPole-v1: a {Discretizer.for_cartpole().n_states}-state Q-table vs DQN, "
                 f"{len(curves['dqn'])} seeds each")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4, fontsize=8,
              title="lines: mean over seeds; shaded: lowest to highest seed", title_fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "tabular_vs_deep_cartpole.png")
    plt.close(fig)


def plot_frozenlake(grid: np.ndarray, curves: dict, optimum: float, args) -> None:
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for kind in ("tabular", "dqn"):
        label = LABELS[kind] + (" on one-hot states" if kind == "dqn" else "")
        draw_band(ax, grid, np.array(curves[kind]), label, COLORS[kind])
    ax.axhline(optimum, color="black", ls="--", lw=1, label=f"optimal policy: {100 * optimum:.1f}%")
    ax.set_ylim(0, 0.85)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("env steps of training")
    ax.set_ylabel("greedy success rate (exact, from the model)")
    ax.set_title(f"FrozenLake-v1 4×4 slippery: Q-table vs DQN, {len(curves['dqn'])} seeds each")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8,
              title="lines: mean over seeds; shaded: lowest to highest seed", title_fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "tabular_vs_deep_frozenlake.png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("cartpole", "frozenlake", "both"), default="both",
                        help="which comparison to run")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds, 0..N-1")
    parser.add_argument("--steps", type=int, default=50_000, help="env steps per agent and seed")
    parser.add_argument("--eval-every", type=int, default=1000, help="K: env steps between greedy evaluations")
    parser.add_argument("--eval-episodes", type=int, default=10, help="CartPole: greedy episodes per evaluation")
    parser.add_argument("--final-episodes", type=int, default=100, help="CartPole: greedy episodes at the end")
    parser.add_argument("--out", type=Path, default=Path("runs/tabular_vs_deep"), help="output folder")
    add_config_flags(parser, DQNConfig, prefix="dqn.")
    add_config_flags(parser, QLearningConfig, prefix="tabular.")
    args = parser.parse_args(argv)
    for name in ("seeds", "steps", "eval_every", "eval_episodes", "final_episodes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    dqn_config = config_from_args(args, DQNConfig(), prefix="dqn.")
    configs = {"cartpole": config_from_args(args, CARTPOLE_TABULAR, prefix="tabular."),
               "frozenlake": config_from_args(args, QLearningConfig(), prefix="tabular.")}
    print(dqn_config)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
                       if "." not in k},
              "dqn_config": dataclasses.asdict(dqn_config)}
    for part, run in (("cartpole", run_cartpole), ("frozenlake", run_frozenlake)):
        if args.part in (part, "both"):
            print(f"\n{part}: tabular {configs[part]}")
            report[part] = run(args, dqn_config, configs[part])
            report[part]["tabular_config"] = dataclasses.asdict(configs[part])
    path = args.out / "tabular_vs_deep.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"wrote {path} and the PNGs in {args.out}")
    return report


if __name__ == "__main__":
    main()
