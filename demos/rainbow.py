"""Rainbow's two new parts, shown: a return distribution as it is learnt, and noisy layers' σ as it fades.

Two agents train on CartPole-v1 from the rainbow preset (all six parts), one with C51's atoms and
one with QR-DQN's quantiles. Every --every steps the demo reads, for the first state of a fixed
episode, the distribution each predicts for its greedy action, and the mean noise scale σ of
each noisy layer. It draws docs/rainbow_distributions.png (C51's probabilities on the atoms
beside QR-DQN's quantile function, one line per moment of training) and docs/rainbow_noise.png
(σ over training, as a share of where it started).

    python demos/rainbow.py                       # CartPole-v1, 50,000 steps per agent
    python demos/rainbow.py --steps 5000 --out runs/rainbow
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

from minidqn import DQNAgent
from minidqn.cli.presets import preset_for
from minidqn.distributional import quantile_midpoints
from minidqn.nn.noisy import NoisyLinear
from minidqn.training.evaluation import EvaluateEvery


def watch(agent: DQNAgent, env: gym.Env, steps: int, every: int) -> dict:
    """Train `agent`; every `every` steps keep its predicted distribution for one state (C51: the atoms'
    probabilities; QR-DQN: the quantiles) and each noisy layer's mean σ."""
    s0 = agent.observe(gym.make(env.spec.id).reset(seed=0)[0])
    noisy = [layer for layer in agent.online.layers if isinstance(layer, NoisyLinear)]
    seen = {"steps": [], "outputs": [], "sigma": []}

    def record(agent: DQNAgent, step: int) -> float:
        agent.online.mean_weights()
        outputs = agent.online(s0[None])  # (1, A·N)
        action = int(agent.head.q_values(outputs).argmax())
        seen["steps"].append(step)
        if agent.config.distribution == "categorical":  # the probabilities of the atoms
            seen["outputs"].append(agent.head.probabilities(outputs)[0, action])  # (N,)
        else:  # the quantiles
            seen["outputs"].append(outputs.reshape(agent.n_actions, -1)[action].copy())  # (N,)
        seen["sigma"].append([float(np.abs(layer.sigma_W).mean()) for layer in noisy])
        return float(agent.head.q_values(outputs).max())

    record(agent, 0)
    agent.train(env, steps, callback=EvaluateEvery(every, measure=record), verbose=0)
    return {key: np.array(value) for key, value in seen.items()}


def draw_distributions(c51: dict, qr: dict, support: np.ndarray, path: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=110)
    colors = plt.cm.viridis(np.linspace(0, 1, len(c51["steps"])))
    for p, step, color in zip(c51["outputs"], c51["steps"], colors):
        left.plot(support, p, color=color, label=f"step {step:,}")
    left.set(title="C51: probability of each atom", xlabel="return z", ylabel="p(z)")
    tau = quantile_midpoints(qr["outputs"].shape[1])
    for quantiles, step, color in zip(qr["outputs"], qr["steps"], colors):
        right.plot(quantiles, tau, drawstyle="steps-post", color=color, label=f"step {step:,}")
    right.set(title="QR-DQN: the quantiles θᵢ at levels τ̂ᵢ", xlabel="return", ylabel="τ̂ (cumulative probability)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("CartPole-v1, the first state of one episode: the return distribution of the greedy action")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def draw_noise(runs: dict[str, dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    for (name, seen), style in zip(runs.items(), ("-", "--")):
        share = seen["sigma"] / seen["sigma"][0]  # (points, layers)
        for layer in range(share.shape[1]):
            ax.plot(seen["steps"], share[:, layer], style, color=f"C{layer}", label=f"{name}, layer {layer + 1}")
    ax.set(title="Noisy layers: mean σ of the weights, as a share of where it started", xlabel="env steps",
           ylabel="σ / σ at the start", ylim=(0, None))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50_000, help="env steps per agent (the preset's budget)")
    parser.add_argument("--every", type=int, help="env steps between readings (default: steps / 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("docs"), help="folder for the two pictures")
    args = parser.parse_args(argv)
    if args.steps < 1 or (args.every is not None and args.every < 1):
        parser.error("--steps and --every must be positive integers")
    preset = preset_for("CartPole-v1", "rainbow")
    config, _ = preset.for_budget(args.steps)
    runs = {}
    for name, distribution in (("C51", "categorical"), ("QR-DQN", "quantile")):
        env = gym.make("CartPole-v1")
        agent = DQNAgent(env.observation_space, env.action_space, replace(config, distribution=distribution), args.seed)
        runs[name] = watch(agent, env, args.steps, args.every or max(1, args.steps // 10))
        print(f"{name}: greedy mean over 10 episodes after {args.steps:,} steps: "
              f"{agent.evaluate(gym.make('CartPole-v1'), 10, seed=1).mean():.1f}")
    args.out.mkdir(parents=True, exist_ok=True)
    support = np.linspace(config.v_min, config.v_max, config.num_atoms)
    draw_distributions(runs["C51"], runs["QR-DQN"], support, args.out / "rainbow_distributions.png")
    draw_noise(runs, args.out / "rainbow_noise.png")
    print(f"wrote {args.out / 'rainbow_distributions.png'} and {args.out / 'rainbow_noise.png'}")
    return runs


if __name__ == "__main__":
    main()
