"""Tabular Q-learning on FrozenLake-v1 (4×4, slippery), checked against value iteration's optimum.

What it shows: the Q-table that ε-greedy Q-learning learns, drawn over the lake (each cell's four
triangles are Q(s,a) of the action pointing that way, the arrow is the greedy action, the number
maxₐ Q(s,a)), beside Q* and the optimal policy that value iteration computes from the
environment's own model; and how often each greedy policy reaches the goal under the
environment's 100-step time limit, over the same 10,000 seeded evaluation episodes.

    python demos/frozenlake.py                        # default QLearningConfig, 20,000 episodes
    python demos/frozenlake.py --seed 3 --alpha-end 0.05 --out runs/fl3   # any config field is a flag

Expected (about 13 s on one core): a progress line every 2,000 episodes, then the greedy success
rate, 73.98% with the default seed, exactly the optimal policy's on the same episodes (every
greedy action is optimal), and runs/frozenlake/frozenlake.png (copied to docs/frozenlake.png),
history.csv and q_table.npz. The measured results over 5 seeds are in docs/tabular.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

from minidqn.agents.config import QLearningConfig
from minidqn.agents.tabular import QLearningAgent
from minidqn.agents.value_iteration import value_iteration
from minidqn.cli.flags import add_config_flags, config_from_args
from minidqn.pictures.plotting import draw_q_table, draw_returns
from minidqn.training.evaluation import evaluate
from minidqn.training.history import Episode


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=20_000, help="training episodes")
    parser.add_argument("--eval-episodes", type=int, default=10_000, help="final greedy evaluation episodes")
    parser.add_argument("--curve-episodes", type=int, default=500,
                        help="greedy episodes at each of the 20 points of the learning curve")
    parser.add_argument("--seed", type=int, default=0, help="seeds the agent; seed + 1 the evaluation")
    parser.add_argument("--out", type=Path, default=Path("runs/frozenlake"), help="output folder")
    add_config_flags(parser, QLearningConfig)
    args = parser.parse_args(argv)
    config = config_from_args(args, QLearningConfig())
    print(config)
    args.out.mkdir(parents=True, exist_ok=True)

    env = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True)  # 100-step time limit
    eval_env = gym.make("FrozenLake-v1", map_name="4x4", is_slippery=True)  # own random stream
    agent = QLearningAgent(env.observation_space, env.action_space, config, seed=args.seed)
    curve_every = max(1, args.episodes // 20)
    curve = [(0, float(agent.evaluate(eval_env, args.curve_episodes, seed=10_000).mean()))]

    def record_greedy_success(agent: QLearningAgent, episode: Episode) -> bool:
        if agent.num_episodes % curve_every == 0:
            success = agent.evaluate(eval_env, args.curve_episodes, seed=10_000 + agent.num_episodes)
            curve.append((episode.env_steps, float(success.mean())))
        return True

    start = time.perf_counter()
    history = agent.train(env, episodes=args.episodes, callback=record_greedy_success)
    print(f"trained {args.episodes:,} episodes ({agent.num_steps:,} env steps) in "
          f"{time.perf_counter() - start:.1f} s, greedy evaluations included")

    V_star, Q_star, optimal_policy = value_iteration(env, gamma=config.gamma)
    learned_policy = agent.greedy_policy(np.random.default_rng(args.seed + 1))
    # Both policies play the same seeded episodes (common random numbers), so their difference
    # is less noisy than either success rate alone.
    learned = evaluate(env, lambda s: learned_policy[s], args.eval_episodes, seed=args.seed + 1)
    optimal = evaluate(env, lambda s: optimal_policy[s], args.eval_episodes, seed=args.seed + 1)
    for name, returns in (("Q-learning greedy", learned), ("value-iteration optimum", optimal)):
        standard_error = returns.std() / np.sqrt(len(returns))
        print(f"{name:<24} success {100 * returns.mean():5.2f}% ± {100 * standard_error:.2f}% "
              f"over {len(returns):,} episodes")
    gap = 100 * (optimal.mean() - learned.mean())
    print(f"gap {gap:+.2f} percentage points (target: within 2); "
          f"max |Q − Q*| = {np.abs(agent.q - Q_star).max():.3f}")
    # A learned action is wrong where its Q* is below the best one's (beyond rounding).
    wrong = Q_star[np.arange(len(V_star)), learned_policy] < V_star - 1e-6  # (S,)

    desc = env.unwrapped.desc
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), gridspec_kw={"width_ratios": [1, 1, 1.25]})
    vmax = float(max(agent.q.max(), Q_star.max()))
    cells = draw_q_table(axes[0], agent.q, desc, learned_policy, wrong=wrong, vmin=0, vmax=vmax)
    axes[0].set_title(f"Q-learning, {args.episodes:,} episodes\n"
                      f"greedy success {100 * learned.mean():.1f}%  (red: not optimal)")
    draw_q_table(axes[1], Q_star, desc, optimal_policy, vmin=0, vmax=vmax)
    axes[1].set_title(f"value iteration: Q* and π*\nsuccess {100 * optimal.mean():.1f}%")
    fig.colorbar(cells, ax=axes[:2], shrink=0.8, label="Q(s, a)")
    steps, successes = zip(*curve)
    axes[2].plot(steps, successes, "o-", color="tab:green", ms=3,
                 label=f"greedy policy ({args.curve_episodes:,} episodes per point)")
    draw_returns(axes[2], history.env_steps, history.episode_return, window=1000,
                 label="ε-greedy training episodes (mean of last 1,000)")
    axes[2].axhline(optimal.mean(), color="black", ls="--",
                    label=f"optimal policy: {100 * optimal.mean():.1f}%")
    axes[2].axhline(learned.mean(), color="tab:red", ls=":", lw=2,
                    label=f"final greedy policy: {100 * learned.mean():.1f}%")
    axes[2].set_ylim(0, 1)
    axes[2].set_ylabel("success rate (mean return)")
    axes[2].set_title(f"learning curve; horizontal lines: {args.eval_episodes:,} episodes each")
    axes[2].legend(loc="lower right", fontsize=8)
    figure_path = args.out / "frozenlake.png"
    fig.savefig(figure_path, dpi=110, bbox_inches="tight")
    plt.close(fig)

    history.to_csv(args.out / "history.csv")
    agent.save(args.out / "q_table.npz")
    print(f"wrote {figure_path}, {args.out / 'history.csv'}, {args.out / 'q_table.npz'}")
    return {"success": float(learned.mean()), "optimal_success": float(optimal.mean()),
            "gap_points": gap, "wrong_states": np.flatnonzero(wrong).tolist()}


if __name__ == "__main__":
    main()
