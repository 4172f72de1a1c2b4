"""Benchmark DQN on any env over several seeds: steps and seconds to solve, stability, speed.

For each seed, in parallel worker processes, the agent trains for --steps env steps. At the end
of the first episode after every --eval-every steps it is evaluated greedily for 10 episodes on a
separate env; the first evaluation with a mean ≥ the env's reward threshold (475 on CartPole-v1,
195 on v0) marks the steps and seconds to solve. After training, the final policy is evaluated
for 20 episodes: it "holds" if that mean is still at or above the threshold. An env without a
reward threshold (and no --target) reports its final returns and calls no seed solved.
Throughput is env steps per second of training (evaluation time excluded); wall seconds include
the evaluations. The config and budget start from the env's preset (minidqn.cli.presets).

    python demos/benchmark.py                              # 10 seeds, default DQNConfig
    python demos/benchmark.py --seeds 3 --lr 5e-4          # any DQNConfig field is a flag
    python demos/benchmark.py --workers 1                  # one process: honest wall-clock times
    python demos/benchmark.py --compare-sb3                # also time Stable-Baselines3's DQN
    python demos/benchmark.py --preset keras-rl            # the tutorial: CartPole-v0, 5,000 steps
    python demos/benchmark.py --env-id LunarLander-v3 --seeds 5 --eval-every 10000   # another preset

Expect 20–40 s per seed per worker on a 2-core machine (221 and 369 s for ten seeds in one
process, on two days).
Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import multiprocessing
import os
import time

import gymnasium as gym
import numpy as np

from minidqn.agents.config import DQNConfig
from minidqn.agents.dqn import DQNAgent
from minidqn.cli.flags import add_config_flags, config_from_args
from minidqn.cli.presets import preset_for
from minidqn.experiments.trial import run_seed


def summarize(results: list[dict], steps: int) -> dict:
    solve_steps = [r["steps_to_solve"] for r in results if r["steps_to_solve"] is not None]
    solve_secs = [r["seconds_to_solve"] for r in results if r["seconds_to_solve"] is not None]
    has_target = results[0]["threshold"] is not None
    finals = [r["final_mean_20"] for r in results]
    return {
        "seeds": len(results),
        "solved": len(solve_steps) if has_target else None,
        "median_steps_to_solve": float(np.median(solve_steps)) if len(solve_steps) == len(results) else None,
        "max_steps_to_solve": max(solve_steps) if len(solve_steps) == len(results) else None,
        "median_seconds_to_solve": float(np.median(solve_secs)) if len(solve_secs) == len(results) else None,
        "final_holds": sum(r["final_holds"] for r in results) if has_target else None,
        "mean_final": float(np.mean(finals)),
        "min_final": float(np.min(finals)),
        "median_steps_per_second": float(np.median([r["steps_per_second"] for r in results])),
        "median_wall_seconds": float(np.median([r["wall_seconds"] for r in results])),
        "steps": steps,
    }


def print_table(results: list[dict], summary: dict) -> None:
    threshold = results[0]["threshold"]
    target = "-" if threshold is None else f"{threshold:g}"
    print(f"{'seed':>4}  {f'steps to {target}':>12}  {f's to {target}':>8}  {'final (20 ep)':>13}  {'holds':>5}  "
          f"{'steps/s':>7}  {'wall s':>6}")
    for r in results:
        steps = "never" if r["steps_to_solve"] is None else f"{r['steps_to_solve']:,}"
        secs = "-" if r["seconds_to_solve"] is None else f"{r['seconds_to_solve']:.1f}"
        holds = "-" if r["final_holds"] is None else "yes" if r["final_holds"] else "NO"
        print(f"{r['seed']:>4}  {steps if threshold is not None else '-':>12}  {secs:>8}  {r['final_mean_20']:>13.1f}  "
              f"{holds:>5}  {r['steps_per_second']:>7,.0f}  {r['wall_seconds']:>6.0f}")
    s = summary

    def shown(value, form: str) -> str:  # a median over seeds that did not all solve is not defined
        return "n/a" if value is None else format(value, form)

    print(f"final greedy mean (20 episodes) over {s['seeds']} seeds: mean {s['mean_final']:.1f}, lowest "
          f"{s['min_final']:.1f}; median {s['median_steps_per_second']:,.0f} steps/s, "
          f"{s['median_wall_seconds']:.0f} s per run")
    if threshold is None:
        print("no reward threshold (give --target): no seed is called solved")
        return
    print(f"solved {s['solved']}/{s['seeds']} within {s['steps']:,} steps; median steps to solve "
          f"{shown(s['median_steps_to_solve'], ',.0f')}; max {shown(s['max_steps_to_solve'], ',')}; median seconds "
          f"{shown(s['median_seconds_to_solve'], '.1f')}; final policy holds "
          f"{s['final_holds']}/{s['seeds']}")


def compare_sb3(config: DQNConfig, env_id: str, steps: int) -> dict:
    """Env steps per second of Stable-Baselines3's DQN and of ours while training, same settings.

    Each library first runs its `learning_starts` warm-up steps (no gradient steps, not timed),
    then `steps` more are timed, every one with its gradient steps. One thread each:
    torch.set_num_threads(1), like our one BLAS thread while training. SB3 counts its
    target_update_interval in env steps and we count gradient steps; with train_freq = 1 and
    gradient_steps = 1, the two are the same. SB3's DQN has n-step returns (`n_steps`, passed on)
    but no dueling head, so the ratio compares it with our agent at the same settings without the
    dueling head; our `config` as given (with its head) is timed and printed too. SB3 is never a
    dependency of minidqn: install it yourself (pip install stable-baselines3) to run this.
    """
    try:
        import torch
        from stable_baselines3 import DQN
    except ImportError:
        print("--compare-sb3: stable-baselines3 is not installed (pip install stable-baselines3); skipped")
        return {"skipped": "stable-baselines3 not installed"}
    torch.set_num_threads(1)
    c = config
    warm_up = max(c.learning_starts, c.batch_size)
    model = DQN("MlpPolicy", gym.make(env_id), learning_rate=c.lr, buffer_size=c.buffer_size,
                learning_starts=c.learning_starts, batch_size=c.batch_size, tau=c.tau, gamma=c.gamma,
                train_freq=c.train_freq, gradient_steps=c.gradient_steps, n_steps=c.n_step,
                target_update_interval=c.target_update_interval * c.train_freq // c.gradient_steps,
                exploration_fraction=min(1.0, c.exploration_steps / (warm_up + steps)), exploration_initial_eps=c.epsilon_start,
                exploration_final_eps=c.epsilon_end, max_grad_norm=c.max_grad_norm or 1e9,
                policy_kwargs={"net_arch": list(c.hidden_sizes)}, device="cpu", seed=0, verbose=0)
    model.learn(total_timesteps=warm_up)
    start = time.perf_counter()
    model.learn(total_timesteps=steps, reset_num_timesteps=False)
    sb3_rate = steps / (time.perf_counter() - start)

    def our_rate(config: DQNConfig) -> float:
        env = gym.make(env_id)
        agent = DQNAgent(env.observation_space, env.action_space, config, seed=0)
        agent.train(env, warm_up, verbose=0)
        start = time.perf_counter()
        agent.train(env, steps, verbose=0)
        return steps / (time.perf_counter() - start)

    same = our_rate(dataclasses.replace(config, dueling=False))  # SB3's settings: no dueling head
    ours = our_rate(config) if config.dueling else same
    print(f"training throughput over {steps:,} env steps after a {warm_up:,}-step warm-up, one thread each: "
          f"Stable-Baselines3 {sb3_rate:,.0f} steps/s (torch {torch.__version__}); minidqn at its settings "
          f"(no dueling head) {same:,.0f} steps/s, ratio {same / sb3_rate:.1f}x"
          + (f"; minidqn as configured (dueling) {ours:,.0f} steps/s, {ours / sb3_rate:.1f}x" if config.dueling else ""))
    return {"steps": steps, "warm_up": warm_up, "sb3_steps_per_second": sb3_rate,
            "minidqn_same_settings_steps_per_second": same, "ratio": same / sb3_rate,
            "minidqn_steps_per_second": ours, "ratio_as_configured": ours / sb3_rate, "torch": torch.__version__}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=["env", "keras-rl", "none"], default="env",
                        help="env: the env's preset (minidqn.cli.presets); keras-rl: the tutorial's config, CartPole-v0 "
                             "and 5,000 steps (CartPole-v0's preset); none: DQNConfig() and 50,000 steps")
    parser.add_argument("--env-id", default="CartPole-v1", help="any gymnasium id; its preset (minidqn.cli.presets) "
                        "gives the config and the budget, if it has one")
    parser.add_argument("--target", type=float, help="mean greedy return that counts as solved "
                        "(default: the env's reward threshold)")
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds, 0..N-1")
    parser.add_argument("--seed", type=int, default=0, help="the first seed: seeds are seed..seed+N-1")
    parser.add_argument("--steps", type=int, help="env steps per seed (default: the preset's budget; 50,000)")
    parser.add_argument("--eval-every", type=int, default=1000, help="K: env steps between evaluations")
    parser.add_argument("--workers", type=int, default=2, help="parallel processes")
    parser.add_argument("--json", default="runs/benchmark.json", help="where to write the results")
    parser.add_argument("--compare-sb3", action="store_true",
                        help="also time Stable-Baselines3's DQN with the same settings (if installed)")
    parser.add_argument("--sb3-steps", type=int, default=5000, help="env steps timed after warm-up, per library")
    add_config_flags(parser, DQNConfig)
    args = parser.parse_args(argv)
    if args.preset == "keras-rl":
        args.env_id = "CartPole-v0"
    preset = preset_for("" if args.preset == "none" else args.env_id)
    config = config_from_args(args, preset.config)
    if args.steps is None:
        args.steps = preset.steps
    for name in ("seeds", "steps", "eval_every", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(args, name)}")
    print(config)
    jobs = [{"config": dataclasses.asdict(config), "seed": seed, "env_id": args.env_id,
             "steps": args.steps, "eval_every": args.eval_every, "target": args.target}
            for seed in range(args.seed, args.seed + args.seeds)]
    start = time.perf_counter()
    results = []
    parallel = multiprocessing.get_context("spawn").Pool(args.workers) if args.workers > 1 else None
    with parallel or contextlib.nullcontext():
        for result in parallel.imap(run_seed, jobs) if parallel else map(run_seed, jobs):
            print(f"seed {result['seed']} done: solved at {result['steps_to_solve']}, "
                  f"final {result['final_mean_20']:.1f}", flush=True)
            results.append(result)
    summary = summarize(results, args.steps)
    print_table(results, summary)
    print(f"total wall time {time.perf_counter() - start:.0f} s with {args.workers} worker(s)")
    report = {"config": dataclasses.asdict(config), "args": {k: v for k, v in vars(args).items()
              if k in ("env_id", "seeds", "seed", "steps", "eval_every", "workers", "target")},
              "summary": summary, "results": results}
    if args.compare_sb3:
        report["sb3"] = compare_sb3(config, args.env_id, args.sb3_steps)
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
        print(f"wrote {args.json}")
    return report


if __name__ == "__main__":
    main()
