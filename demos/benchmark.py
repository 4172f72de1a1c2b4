"""Benchmark DQN on any env over several seeds: steps to solve, stability, speed, as one sweep.

Each seed is one trial of `minidqn sweep` (minidqn.cli.sweep): on Ray, one worker per core
(--workers N) or on a cluster (--address), each a run folder under --out. The agent trains for
--steps env steps; at the end of the first episode after every --eval-every steps it is evaluated
greedily for 10 episodes on a separate env; the first evaluation with a mean ≥ the env's reward
threshold (475 on CartPole-v1, 195 on v0) marks the steps to solve. After training, the final
policy is evaluated for 20 episodes: "at the end" says whether that mean is still at the
threshold. An env without a reward threshold (and no --target) reports its final returns and
calls no seed solved. Steps/s are of training with its evaluations. The config and budget start
from the env's preset (minidqn.cli.presets).

    python demos/benchmark.py                              # 10 seeds, the env's preset
    python demos/benchmark.py --seeds 3 --lr 5e-4          # any DQNConfig field is a flag
    python demos/benchmark.py --workers 1                  # one trial at a time: honest speeds
    python demos/benchmark.py --compare-sb3                # also time Stable-Baselines3's DQN
    python demos/benchmark.py --preset keras-rl            # the tutorial: CartPole-v0, 5,000 steps
    python demos/benchmark.py --env-id LunarLander-v3 --seeds 5 --eval-every 10000   # another preset

Expect 20–40 s per seed per worker on a 2-core machine. It writes OUT/results.csv, OUT/summary.md
and OUT/benchmark.json. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import gymnasium as gym

from minidqn.agents.config import DQNConfig
from minidqn.agents.dqn import DQNAgent
from minidqn.cli.flags import add_config_flags, config_from_args
from minidqn.cli.presets import preset_for
from minidqn.cli.sweep import run_sweep, summary_table
from minidqn.experiments.sweep_spec import sweep_trials


def print_seeds(results: list[dict], out: Path) -> None:
    """A line per seed: steps and seconds to solve, the final mean, whether it still solves, speed and time."""
    print(f"{'seed':>4}  {'steps to solve':>14}  {'s to solve':>10}  {'final (20 ep)':>13}  {'at the end':>10}  "
          f"{'steps/s':>7}  {'s':>6}")
    for r in results:
        if r["status"] != "done":
            print(f"{r['seed']:>4}  failed: {r['error']}")
            continue
        summary = json.loads((out / "trials" / r["trial"] / "summary.json").read_text())
        solve = "never" if r["steps_to_solve"] == "" else f"{r['steps_to_solve']:,}"
        seconds = "-" if r["seconds_to_solve"] == "" else f"{r['seconds_to_solve']:.1f}"
        print(f"{r['seed']:>4}  {solve if summary['target'] is not None else '-':>14}  {seconds:>10}  "
              f"{r['final_return']:>13.1f}  "
              f"{r['solved_at_end'] or '-':>10}  {summary['steps_per_second_this_call']:>7,.0f}  "
              f"{summary['seconds_this_call']:>6.0f}")


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
        from stable_baselines3.common.logger import Logger
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
    model.set_logger(Logger(folder=None, output_formats=[]))  # its default makes an empty folder in /tmp per call
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
    parser.add_argument("--workers", type=int, help="trials at once on this machine (default: one per core)")
    parser.add_argument("--address", help="a running Ray cluster: auto, or HOST:PORT")
    parser.add_argument("--out", type=Path, default=Path("runs/benchmark"), help="the sweep's folder")
    parser.add_argument("--compare-sb3", action="store_true",
                        help="also time Stable-Baselines3's DQN with the same settings (if installed)")
    parser.add_argument("--sb3-steps", type=int, default=5000, help="env steps timed after warm-up, per library")
    add_config_flags(parser, DQNConfig)
    args = parser.parse_args(argv)
    if args.preset == "keras-rl":
        args.env_id = "CartPole-v0"
    preset = preset_for("" if args.preset == "none" else args.env_id)
    steps = args.steps or preset.steps
    config = config_from_args(args, preset.for_budget(steps, given=set(vars(args)))[0])
    for name in ("seeds", "steps", "eval_every", "workers", "sb3_steps"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(args, name)}")
    if args.seed < 0:
        parser.error(f"--seed must be 0 or more, got {args.seed}")
    print(config)
    trials = sweep_trials(args.env_id, config, list(range(args.seed, args.seed + args.seeds)), [])
    start = time.perf_counter()
    results = run_sweep(trials, steps, args.out, args.workers, args.address, args.eval_every, target=args.target)
    print_seeds(results, args.out)
    print(f"total wall time {time.perf_counter() - start:.0f} s")
    report = {"config": dataclasses.asdict(config), "env_id": args.env_id, "steps": steps,
              "summary": summary_table(results, trials)[0], "results": results}
    if args.compare_sb3:
        report["sb3"] = compare_sb3(config, args.env_id, args.sb3_steps)
    (args.out / "benchmark.json").write_text(json.dumps(report, indent=1))
    print(f"wrote {args.out / 'benchmark.json'}")
    return report


if __name__ == "__main__":
    main()
