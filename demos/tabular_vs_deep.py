"""Tabular Q-learning against DQN on the same env-step budget: what the network buys, and at what cost.

Part A, CartPole-v1: tabular Q-learning on the 480-state grid of Discretizer.for_cartpole()
beside DQN on the raw 4 numbers. Part B, FrozenLake-v1 (4×4, slippery): tabular Q-learning
beside DQN on one-hot states, with the success rate of value iteration's optimal policy as a
line; there the greedy success rate is computed exactly from the lake's model, so its curve has
no sampling noise.
Both agents train --steps env steps per seed through the same interface and are measured every
--eval-every env steps (minidqn.training.evaluation.EvaluateEvery); the plots show the mean over seeds
with a min–max band, and the tables the env steps to a threshold, the final greedy result, the
seconds of training (evaluation excluded) and the memory each agent uses.

    python demos/tabular_vs_deep.py                           # both parts, 3 seeds, 50,000 steps
    python demos/tabular_vs_deep.py --part frozenlake --seeds 5
    python demos/tabular_vs_deep.py --dqn.lr 5e-4 --tabular.alpha_end 0.05    # config fields

DQN uses DQNConfig() in both parts, with value iteration's γ on FrozenLake (so the optimum drawn
is the optimum of DQN's problem too); the table uses QLearningConfig() on FrozenLake and the
settings docs/tabular.md measured on CartPole (CARTPOLE_TABULAR). Expect about 3 minutes on
one core, nearly all of it DQN. It writes tabular_vs_deep_cartpole.png, tabular_vs_deep_frozenlake.png
(copied to docs/) and tabular_vs_deep.json in --out; docs/tabular.md, "Tabular vs deep", quotes
a run and explains it.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time
from pathlib import Path

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np
from gymnasium.wrappers import FlattenObservation

from minidqn import DQNAgent, DQNConfig, QLearningAgent, QLearningConfig
from minidqn.agents.discretizer import Discretizer
from minidqn.agents.value_iteration import evaluate_policy_exactly, value_iteration
from minidqn.cli.flags import add_config_flags, config_from_args
from minidqn.pictures.plotting import draw_band
from minidqn.training.evaluation import EvaluateEvery

# docs/tabular.md ("Other measurements"): the table balanced the pole for 500 steps on 3 of 3 seeds.
CARTPOLE_TABULAR = QLearningConfig(alpha_start=0.2, alpha_end=0.05, alpha_decay_episodes=2000,
                                   epsilon_decay_episodes=1000, epsilon_end=0.01)
LABELS = {"tabular": ("tabular Q-learning", "tab:orange"), "dqn": ("DQN", "tab:blue")}


def make(part: str, kind: str, seed: int, configs: dict, args):
    """The training env, the agent and its measure(agent, step) for one run."""
    if part == "cartpole":
        env, eval_env = gym.make("CartPole-v1"), gym.make("CartPole-v1")
        k = itertools.count()  # both agents play the same seeded episodes at the k-th point

        def measure(agent, step):
            return float(agent.evaluate(eval_env, args.eval_episodes, seed=10_000 + 1_000 * seed + next(k)).mean())
    else:
        env = lake = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True)
        if kind == "dqn":
            env = FlattenObservation(lake)  # the Discrete(16) state s becomes the one-hot vector e_s
        one_hot = np.eye(16)  # (S, S): row s is e_s

        def measure(agent, step):
            policy = (agent.greedy_policy(np.random.default_rng(step)) if kind == "tabular"
                      else agent.q_values(one_hot).argmax(axis=1))  # (S,)
            return success_rate(lake, policy)
    if kind == "tabular":
        grid = Discretizer.for_cartpole() if part == "cartpole" else None
        agent = QLearningAgent(env.observation_space, env.action_space, configs[part], seed=seed, discretizer=grid)
    else:
        agent = DQNAgent(env.observation_space, env.action_space, configs["dqn"][part], seed=seed)
    return env, agent, measure


def success_rate(lake: gym.Env, policy: np.ndarray) -> float:
    """The exact probability that `policy` reaches the goal within the lake's time limit."""
    return float(lake.unwrapped.initial_state_distrib @ evaluate_policy_exactly(lake, policy))


def run_part(part: str, configs: dict, args) -> dict:
    """Every seed of both agents on one part: the table printed, the curves plotted. A greedy
    result is compared with CartPole-v0's and v1's "solved" returns, or with 2 points below the
    FrozenLake optimum."""
    thresholds = [195.0, 475.0]
    lines = [(195.0, "greedy 195 (CartPole-v0's solved)"), (475.0, "greedy 475 (CartPole-v1's solved)")]
    if part == "frozenlake":
        lake = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True)
        optimum = success_rate(lake, value_iteration(lake, gamma=configs["frozenlake"].gamma)[2])
        thresholds = [optimum - 0.02]
        lines = [(optimum - 0.02, "2 points below the optimum"), (optimum, f"the optimum, {100 * optimum:.2f}%")]
        print(f"FrozenLake: value iteration's optimal policy succeeds {100 * optimum:.2f}% of the time (exact)")
    rows, curves = [], {"tabular": [], "dqn": []}
    for seed in range(args.seeds):
        for kind in ("tabular", "dqn"):
            env, agent, measure = make(part, kind, seed, configs, args)
            clock = EvaluateEvery(args.eval_every, measure=measure)
            first = measure(agent, 0)  # the untrained agent, at step 0
            start = time.perf_counter()
            agent.train(env, args.steps, callback=clock, verbose=0)
            seconds = time.perf_counter() - start - clock.eval_seconds
            clock.at(agent, agent.num_steps)  # training stops mid-episode: measure the last point now
            row = {"agent": kind, "seed": seed, "env_steps": agent.num_steps, "train_seconds": seconds,
                   "final": clock.values[-1], "steps_to": [clock.first_step_at_least(t) for t in thresholds]}
            if kind == "tabular":  # a state never visited keeps its row of zeros
                row.update(table_cells=agent.q.size, visited_states=float(np.mean(np.any(agent.q != 0, axis=1))))
                memory = f"{row['table_cells']:,} table cells, {100 * row['visited_states']:.0f}% of the states visited"
            else:
                row.update(network_params=agent.online.num_params, replay_transitions=len(agent.buffer))
                memory = f"{row['network_params']:,} parameters + {row['replay_transitions']:,} replayed transitions"
            rows.append(row)
            curves[kind].append([first, *clock.values])
            print(f"{part} seed {seed} {kind:<7}: {seconds:5.1f} s of training; steps to "
                  f"{', '.join(f'{t:g}' for t in thresholds)}: {row['steps_to']}; "
                  f"final greedy {row['final']:.3f}; {memory}", flush=True)
    for kind in ("tabular", "dqn"):
        mine = [r for r in rows if r["agent"] == kind]
        reached = [sum(r["steps_to"][i] is not None for r in mine) for i in range(len(thresholds))]
        print(f"{part} {kind}: reached the thresholds {thresholds} on {reached} of {len(mine)} seeds; "
              f"final greedy {np.mean([r['final'] for r in mine]):.3f}; "
              f"{np.mean([r['train_seconds'] for r in mine]):.1f} s of training per seed")
    plot(part, np.arange(0, len(curves["dqn"][0])) * args.eval_every, curves, lines, args)
    return {"table": rows, "curves": curves, "thresholds": thresholds,
            "points": np.arange(0, args.steps + 1, args.eval_every).tolist(), "tabular_config": dataclasses.asdict(configs[part])}


def plot(part: str, steps: np.ndarray, curves: dict, lines: list[tuple[float, str]], args) -> None:
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for kind in ("tabular", "dqn"):
        draw_band(ax, steps, np.array(curves[kind]), *LABELS[kind])
    for (value, label), style in zip(lines, (":", "--")):
        ax.axhline(value, color="gray", ls=style, lw=1, label=label)
    ax.set_xlabel("env steps of training")
    ax.set_ylabel("greedy return (mean)" if part == "cartpole" else "greedy success rate (exact)")
    ax.set_title(f"{'CartPole-v1' if part == 'cartpole' else 'FrozenLake-v1 4×4 slippery'}: "
                 f"a Q-table vs DQN, {len(curves['dqn'])} seeds each")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, title="mean over seeds; band: lowest to highest", title_fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / f"tabular_vs_deep_{part}.png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("cartpole", "frozenlake", "both"), default="both")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds, 0..N-1")
    parser.add_argument("--steps", type=int, default=50_000, help="env steps per agent and seed")
    parser.add_argument("--eval-every", type=int, default=1000, help="K: env steps between greedy evaluations")
    parser.add_argument("--eval-episodes", type=int, default=10, help="CartPole: greedy episodes per evaluation")
    parser.add_argument("--out", type=Path, default=Path("runs/tabular_vs_deep"), help="output folder")
    add_config_flags(parser, DQNConfig, prefix="dqn.")
    add_config_flags(parser, QLearningConfig, prefix="tabular.")
    args = parser.parse_args(argv)
    for name in ("seeds", "steps", "eval_every", "eval_episodes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    dqn = config_from_args(args, DQNConfig(), prefix="dqn.")
    configs = {"cartpole": config_from_args(args, CARTPOLE_TABULAR, prefix="tabular."),
               "frozenlake": config_from_args(args, QLearningConfig(), prefix="tabular.")}
    configs["dqn"] = {"cartpole": dqn, "frozenlake": dataclasses.replace(dqn, gamma=configs["frozenlake"].gamma)}
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"dqn_config": dataclasses.asdict(dqn)}
    for part in ("cartpole", "frozenlake"):
        if args.part in (part, "both"):
            print(f"\n{part}: DQN {configs['dqn'][part]}\n{part}: tabular {configs[part]}")
            report[part] = run_part(part, configs, args)
    path = args.out / "tabular_vs_deep.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"wrote {path} and the PNGs in {args.out}")
    return report


if __name__ == "__main__":
    main()
