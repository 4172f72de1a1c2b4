"""Draw the pictures of docs/start_here.ipynb and the docs: the loop, the network, the replay memory,
the target network's lag and the moving TD target, the last three from real CartPole runs; and
the map of the code's parts (docs/code_map.md), read from the package itself.

    python demos/pictures.py                 # writes docs/start_here_*.png and docs/code_map.png
    python demos/pictures.py --out pictures  # somewhere else

Three short runs of CartPole-v1 (6,000 env steps each, seed 0, about 10 s in all) with the
defaults, changing only how the target network follows the online one:

    hard copy   θ⁻ ← θ every 500 gradient steps (τ = 1, C = 500), as in Mnih et al. (2015)
    Polyak      θ⁻ ← 0.01·θ + 0.99·θ⁻ every step (τ = 0.01, C = 1), minidqn's default
    no target   θ⁻ ← θ every step (τ = 1, C = 1): the target is the network being trained

A `minidqn.pictures.probe.Probe` records, every 20 steps, both networks' Q of the first state and the TD
targets of one fixed batch of 16 stored transitions.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import gymnasium as gym
import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt
import numpy as np

from minidqn import DQNAgent, DQNConfig
from minidqn.pictures import code_map, diagrams
from minidqn.pictures.probe import Probe, train_probed

TARGET_UPDATES = {"hard copy": {"tau": 1.0, "target_update_interval": 500},
                  "Polyak": {"tau": 0.01, "target_update_interval": 1},
                  "no target": {"tau": 1.0, "target_update_interval": 1}}


def probed_run(target_update: dict, steps: int = 6_000, seed: int = 0) -> tuple[DQNAgent, Probe]:
    """Train the default agent on CartPole-v1 with one way of moving the target network, probed."""
    config = dataclasses.replace(DQNConfig(), **target_update)
    return train_probed(gym.make("CartPole-v1"), config, steps, seed=seed, every=20, batch_size=16)


def main(argv=None) -> list[Path]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs")
    parser.add_argument("--steps", type=int, default=6_000, help="env steps of each probed run")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error(f"--steps must be a positive integer, got {args.steps}")
    args.out.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name: str) -> None:
        path = args.out / (f"{name}.png" if name == "code_map" else f"start_here_{name}.png")
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
        print(f"wrote {path}")

    fig, ax = plt.subplots(figsize=(12, 7))
    save(code_map.draw_code_map(ax).figure, "code_map")
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    save(diagrams.draw_loop(ax).figure, "loop")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    save(diagrams.draw_q_network(ax).figure, "network")

    runs = {label: probed_run(update, args.steps) for label, update in TARGET_UPDATES.items()}
    env = gym.make("CartPole-v1")
    memory = dataclasses.replace(DQNConfig(), buffer_size=400, n_step=1)  # 400 cells can each be seen
    small = DQNAgent(env.observation_space, env.action_space, memory)
    small.train(env, 700, verbose=0)  # 700 steps into a memory of 400: the first 300 are gone
    batch = np.random.default_rng(0).choice(len(small.buffer), 32, replace=False)
    fig, ax = plt.subplots(figsize=(11, 2.2))
    save(diagrams.draw_replay(ax, small.buffer, batch).figure, "replay")

    fig, ax = plt.subplots(figsize=(9, 4.5))
    diagrams.draw_target_lag(ax, {label: probe for label, (_, probe) in runs.items() if label != "no target"})
    ax.set_title(f"the target network follows the online one (CartPole-v1, seed 0, {args.steps:,} steps)")
    save(fig, "target_lag")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    diagrams.draw_td_targets(axes[0], runs["Polyak"][1], "with a target network (Polyak, τ = 0.01)")
    diagrams.draw_td_targets(axes[1], runs["no target"][1], "without one (θ⁻ = θ at every step)")
    fig.suptitle("the TD targets of one fixed batch of 16 transitions, while the network learns")
    save(fig, "moving_target")
    return written


if __name__ == "__main__":
    main()
