"""Watch Q-values diverge under a Huber loss with a small δ, and stay bounded under squared error.

    python demos/q_divergence.py                 # seed 4, 50,000 steps per loss, about a minute
    python demos/q_divergence.py --seed 0 --steps 30000
    python demos/q_divergence.py --loss huber --huber-delta 100   # Huber alone, with a δ at Q's scale

On CartPole every reward is 1, so no return (and no true Q-value) exceeds 1/(1 − γ), 200 at
the default γ = 0.995. The only transitions that anchor Q are the terminal ones, whose target is
the reward alone; they are a few percent of the replay buffer. Under Huber with δ = 1 each of them pulls
with a gradient of at most δ however wrong it is, so the many bootstrapped transitions, whose
targets rise with Q itself, can outvote them, and Q climbs without bound. Under squared error a
terminal transition's pull grows with its error. The demo trains the same seed with both losses
(or with the one --loss names; --huber-delta sets δ) and prints, every --eval-every steps, the greedy return and the mean and max Q over replayed states,
and Q at the states just before a termination (whose true value is about 1). It saves
q_divergence.png in --out. docs/dqn.md quotes a run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

from minidqn import DQNAgent, DQNConfig
from minidqn.cli.flags import add_config_flags, config_from_args
from minidqn.training.evaluation import EvaluateEvery


def track(config: DQNConfig, seed: int, steps: int, every: int) -> list[dict]:
    """Train one agent, recording Q statistics every `every` env steps (at episode ends)."""
    env, eval_env = gym.make("CartPole-v1"), gym.make("CartPole-v1")
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=seed)

    def q_statistics(agent: DQNAgent, step: int) -> dict:
        batch = agent.buffer.sample(2000, np.random.default_rng(0))
        q = agent.head.q_values(agent.online(batch.obs))  # (2000, A)
        q_taken = q[np.arange(len(q)), batch.actions]  # (2000,)
        pre_terminal = q_taken[batch.terminated == 1.0]
        return {"step": step, "greedy_return": float(agent.evaluate(eval_env, 5, seed=step).mean()),
                "q_mean": float(q.mean()), "q_max": float(q.max()),
                "q_pre_terminal": float(pre_terminal.mean()) if pre_terminal.size else float("nan")}

    measured = EvaluateEvery(every, measure=q_statistics)
    agent.train(env, steps, callback=measured, verbose=0)
    return measured.values


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--eval-every", type=int, default=5_000, help="env steps between measurements")
    parser.add_argument("--out", default="runs/q_divergence")
    add_config_flags(parser, DQNConfig)
    args = parser.parse_args(argv)
    base = config_from_args(args, DQNConfig())
    bound = 1.0 / (1.0 - base.gamma) if base.gamma < 1 else float("inf")
    # Both losses side by side, unless --loss names one; --huber-delta sets Huber's δ.
    losses = [base.loss] if "loss" in vars(args) else ["huber", "mse"]
    runs = {}
    for loss in losses:
        config = dataclasses.replace(base, loss=loss)
        name = f"huber, δ = {config.huber_delta:g}" if loss == "huber" else "squared error"
        print(f"{name}: training {args.steps:,} steps, seed {args.seed} ...", flush=True)
        runs[name] = track(config, args.seed, args.steps, args.eval_every)
        print(f"  {'step':>7} {'greedy return':>13} {'mean Q':>8} {'max Q':>8} {'Q before termination':>21}")
        for r in runs[name]:
            print(f"  {r['step']:>7,} {r['greedy_return']:>13.1f} {r['q_mean']:>8.1f} {r['q_max']:>8.1f} "
                  f"{r['q_pre_terminal']:>21.1f}")
    print(f"No return can exceed 1/(1 − γ) = {bound:g}; the value just before a termination is about 1.")

    os.makedirs(args.out, exist_ok=True)
    fig, (ax_q, ax_r) = plt.subplots(1, 2, figsize=(10, 3.8), dpi=110)
    for (name, rows), color in zip(runs.items(), ("tab:red", "tab:blue")):
        steps = [r["step"] for r in rows]
        ax_q.plot(steps, [r["q_mean"] for r in rows], color=color, lw=2, label=f"{name}: mean Q")
        ax_q.plot(steps, [r["q_pre_terminal"] for r in rows], color=color, ls=":", label=f"{name}: Q before termination")
        ax_r.plot(steps, [r["greedy_return"] for r in rows], "o-", color=color, ms=3, label=name)
    ax_q.axhline(bound, color="black", ls="--", lw=1, label=f"1/(1 − γ) = {bound:g}")
    ax_q.set_yscale("symlog", linthresh=10)
    ax_q.set(xlabel="environment steps", ylabel="Q (symlog scale)", title="Q-values on replayed states")
    ax_r.set(xlabel="environment steps", ylabel="greedy return (5 episodes)", title="what the policy does")
    for ax in (ax_q, ax_r):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(args.out, "q_divergence.png")
    fig.savefig(path)
    plt.close(fig)
    print(f"wrote {path}")
    return runs


if __name__ == "__main__":
    main()
