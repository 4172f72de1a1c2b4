"""Benchmark tabular Q-learning against value iteration's optimum on toy-text environments.

For each environment and seed, the agent trains for --episodes episodes with one QLearningConfig
(the default unless flags change it), then its greedy policy plays --eval-episodes episodes under
the environment's own time limit. Value iteration's optimal policy plays the same seeded episodes
(common random numbers), so the gap between the two is measured with less noise than either;
"wrong" counts the visited states where the greedy action is not an optimal one. A
run's seconds are training plus the greedy evaluation; the optimum's evaluation is not counted.
CartPole gets the measured Discretizer.for_cartpole() grid, and no optimum (it has no model).

    python demos/tabular_benchmark.py                          # FrozenLake-v1 and Taxi-v4, 5 seeds
    python demos/tabular_benchmark.py --env-id Taxi-v4 --alpha-end 0.05   # config fields are flags
    python demos/tabular_benchmark.py --env-id CartPole-v1 --seeds 3 --episodes 2000 \\
        --eval-episodes 20 --alpha-start 0.2 --alpha-end 0.05 --alpha-decay-episodes 2000 \\
        --epsilon-decay-episodes 1000 --epsilon-end 0.01

Expect about 12 s per FrozenLake seed and 12 s per Taxi seed on one core (2 minutes for the
default). Targets: FrozenLake within 2 percentage points of the optimum for 4 of 5
seeds, Taxi within 0.3 of the optimal mean return, each run under 30 s. Results: docs/tabular.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time

import gymnasium as gym
import numpy as np

from minidqn.agents.config import QLearningConfig
from minidqn.agents.discretizer import Discretizer
from minidqn.agents.tabular import QLearningAgent
from minidqn.agents.value_iteration import value_iteration
from minidqn.cli.flags import add_config_flags, config_from_args
from minidqn.training.evaluation import evaluate

# The targets: the largest allowed gap to the optimum's mean return, per environment.
TOLERANCE = {"FrozenLake-v1": 0.02, "Taxi-v4": 0.3}


def run_seed(env_id: str, config: QLearningConfig, seed: int, episodes: int, eval_episodes: int) -> dict:
    """Train one agent, evaluate its greedy policy and, if the env has a model, the optimal one."""
    env = gym.make(env_id)
    has_model = hasattr(env.unwrapped, "P")
    discretizer = Discretizer.for_cartpole() if env_id.startswith("CartPole") else None
    agent = QLearningAgent(env.observation_space, env.action_space, config, seed=seed,
                           discretizer=discretizer)
    start = time.perf_counter()
    agent.train(env, episodes=episodes, verbose=0)
    train_seconds = time.perf_counter() - start
    eval_seed = 100_000 + seed
    learned = agent.evaluate(env, eval_episodes, seed=eval_seed)
    run_seconds = time.perf_counter() - start
    result = {"env_id": env_id, "seed": seed, "env_steps": agent.num_steps,
              "mean_return": float(learned.mean()),
              "standard_error": float(learned.std() / np.sqrt(eval_episodes)),
              "train_seconds": train_seconds, "run_seconds": run_seconds,
              "visited_states": float(np.mean(np.any(agent.q != 0, axis=1)))}
    if has_model:
        V_star, Q_star, optimal_policy = value_iteration(env, gamma=config.gamma)
        optimal = evaluate(env, lambda s: optimal_policy[s], eval_episodes, seed=eval_seed)
        # States the agent visited where its greedy action is not optimal (ties broken as in evaluate).
        policy = agent.greedy_policy(np.random.default_rng(eval_seed))
        wrong = Q_star[np.arange(len(V_star)), policy] < V_star - 1e-6  # (S,)
        result.update(optimal_mean_return=float(optimal.mean()),
                      gap=float(optimal.mean() - learned.mean()),
                      wrong_visited_states=int(np.sum(wrong & np.any(agent.q != 0, axis=1))))
        tolerance = TOLERANCE.get(env_id)
        result["met"] = None if tolerance is None else bool(result["gap"] <= tolerance)
    return result


def print_table(results: list[dict]) -> None:
    print(f"{'env':<15} {'seed':>4} {'env steps':>10} {'greedy mean':>16} {'optimum':>8} "
          f"{'gap':>8} {'met':>4} {'wrong':>5} {'train s':>7} {'run s':>6}")
    for r in results:
        optimum = f"{r['optimal_mean_return']:.4f}" if "optimal_mean_return" in r else "-"
        gap = f"{r['gap']:+.4f}" if "gap" in r else "-"
        met = {True: "yes", False: "NO", None: "-"}[r.get("met")]
        wrong = r.get("wrong_visited_states", "-")
        print(f"{r['env_id']:<15} {r['seed']:>4} {r['env_steps']:>10,} "
              f"{r['mean_return']:>8.4f} ± {r['standard_error']:.4f} {optimum:>8} {gap:>8} {met:>4} {wrong:>5} "
              f"{r['train_seconds']:>7.1f} {r['run_seconds']:>6.1f}")


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env-id", nargs="+", default=["FrozenLake-v1", "Taxi-v4"])
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds, 0..N-1")
    parser.add_argument("--episodes", type=int, default=20_000, help="training episodes per run")
    parser.add_argument("--eval-episodes", type=int, default=10_000, help="greedy evaluation episodes")
    parser.add_argument("--json", default="runs/tabular_benchmark.json", help="where to write results")
    add_config_flags(parser, QLearningConfig)
    args = parser.parse_args(argv)
    config = config_from_args(args, QLearningConfig())
    print(config)
    results = []
    for env_id in args.env_id:
        for seed in range(args.seeds):
            results.append(run_seed(env_id, config, seed, args.episodes, args.eval_episodes))
            r = results[-1]
            optimum = f", optimum {r['optimal_mean_return']:.4f}" if "optimal_mean_return" in r else ""
            print(f"{env_id} seed {seed}: greedy {r['mean_return']:.4f}{optimum}, "
                  f"{r['run_seconds']:.1f} s", flush=True)
    print_table(results)
    for env_id in args.env_id:
        met = [r["met"] for r in results if r["env_id"] == env_id and r.get("met") is not None]
        slowest = max(r["run_seconds"] for r in results if r["env_id"] == env_id)
        if met:
            print(f"{env_id}: target met on {sum(met)}/{len(met)} seeds; slowest run {slowest:.1f} s")
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"config": dataclasses.asdict(config), "episodes": args.episodes,
                       "eval_episodes": args.eval_episodes, "results": results}, f, indent=1)
        print(f"wrote {args.json}")
    return results


if __name__ == "__main__":
    main()
