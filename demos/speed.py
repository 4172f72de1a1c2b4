"""How fast minidqn trains DQN on CartPole, side by side with the peers installed: SB3 and a JAX loop.

Every library trains the same DQN for --steps env steps of CartPole-v1, one gradient step per env
step, as a whole process of its own (start-up, imports and any compilation included, as a user
would wait for them); the processes alternate, --rounds times, so that each round compares the
libraries on the same machine in the same minutes, and a ratio is taken round by round.

The common setting is the one Stable-Baselines3's DQN can also run: a 64×64 MLP, batch 64, replay
of 100,000 after 1,000 warm-up steps, the Huber loss, Adam at a constant 1e-3 with gradients
clipped to norm 10, γ = 0.99, one-step targets from the target network's max (no Double DQN, no
dueling head), Polyak τ = 0.01 after every gradient step, ε from 1 to 0.1 over 5,000 steps.

- minidqn: `DQNAgent.train` with that DQNConfig; and a second row, minidqn as configured by
  default (dueling head, Double DQN, 3-step returns, MSE), to show what those parts cost.
- Stable-Baselines3 (if installed): `DQN("MlpPolicy", ...)` with the same settings, on one
  torch thread.
- JAX (if jax and optax are installed): the loop of CleanRL's dqn_jax.py, written here with the
  same settings: acting and the whole update (target, loss, gradient, clipped Adam, Polyak) each
  one jitted function, the replay memory in NumPy; XLA on one thread.

Every process runs on one core, the same one (os.sched_setaffinity, where the system has it), as
minidqn trains on one BLAS thread; --no-pin lets each library use every core it wants (JAX's
runtime keeps a second core busy). Each process prints the seconds of its training loop; this
script prints, per library, the median whole-process seconds and µs per step of training, and per
peer the median (and range) of the round-by-round ratio of its whole-process time to minidqn's.

    python demos/speed.py                        # 12,000 steps, 7 rounds
    python demos/speed.py --steps 5000 --rounds 3 --libraries minidqn,Stable-Baselines3

Results: docs/benchmarks.md ("Speed, side by side").
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

# The common setting (see above), in each library's terms below.
SETTING = {"hidden": (64, 64), "batch_size": 64, "buffer_size": 100_000, "learning_starts": 1_000, "lr": 1e-3,
           "max_grad_norm": 10.0, "gamma": 0.99, "tau": 0.01, "epsilon_end": 0.1, "exploration_steps": 5_000}


def train_minidqn(steps: int, as_configured: bool) -> float:
    import gymnasium as gym

    from minidqn import DQNAgent, DQNConfig

    s = SETTING
    config = DQNConfig() if as_configured else DQNConfig(
        hidden_sizes=s["hidden"], batch_size=s["batch_size"], buffer_size=s["buffer_size"],
        learning_starts=s["learning_starts"], lr=s["lr"], lr_end=None, max_grad_norm=s["max_grad_norm"],
        gamma=s["gamma"], tau=s["tau"], target_update_interval=1, n_step=1, loss="huber", double_dqn=False,
        dueling=False, epsilon_end=s["epsilon_end"], exploration_steps=s["exploration_steps"])
    env = gym.make("CartPole-v1")
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=0)
    start = time.perf_counter()
    agent.train(env, steps, verbose=0)
    return time.perf_counter() - start


def train_sb3(steps: int) -> float:
    import gymnasium as gym
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.logger import Logger

    torch.set_num_threads(1)
    s = SETTING
    # SB3 counts target_update_interval in env steps; with one gradient step per env step it is 1.
    model = DQN("MlpPolicy", gym.make("CartPole-v1"), learning_rate=s["lr"], buffer_size=s["buffer_size"],
                learning_starts=s["learning_starts"], batch_size=s["batch_size"], tau=s["tau"], gamma=s["gamma"],
                train_freq=1, gradient_steps=1, target_update_interval=1,
                exploration_fraction=s["exploration_steps"] / steps, exploration_final_eps=s["epsilon_end"],
                max_grad_norm=s["max_grad_norm"], policy_kwargs={"net_arch": list(s["hidden"])}, device="cpu",
                seed=0, verbose=0)
    model.set_logger(Logger(folder=None, output_formats=[]))  # its default makes an empty folder in /tmp per run
    start = time.perf_counter()
    model.learn(total_timesteps=steps)
    return time.perf_counter() - start


def train_jax(steps: int) -> float:
    """CleanRL's dqn_jax.py loop (acting and the update each one jitted function), same setting."""
    import gymnasium as gym
    import jax
    import jax.numpy as jnp
    import optax

    s = SETTING
    env = gym.make("CartPole-v1")
    D, A = env.observation_space.shape[0], int(env.action_space.n)
    widths = [D, *s["hidden"], A]
    keys = jax.random.split(jax.random.PRNGKey(0), len(widths) - 1)
    params = [(jax.random.normal(k, (i, o)) * jnp.sqrt(2.0 / i), jnp.zeros(o))
              for k, i, o in zip(keys, widths[:-1], widths[1:])]
    target = params

    def q_values(params, x):
        for W, b in params[:-1]:
            x = jax.nn.relu(x @ W + b)
        W, b = params[-1]
        return x @ W + b

    optimizer = optax.chain(optax.clip_by_global_norm(s["max_grad_norm"]), optax.adam(s["lr"]))
    opt_state = optimizer.init(params)

    @jax.jit
    def update(params, target, opt_state, obs, actions, rewards, next_obs, terminated):
        y = rewards + s["gamma"] * (1.0 - terminated) * q_values(target, next_obs).max(axis=1)

        def loss(params):
            q = q_values(params, obs)[jnp.arange(len(actions)), actions]
            return optax.huber_loss(q, y).mean()

        value, grads = jax.value_and_grad(loss)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, optax.incremental_update(params, target, s["tau"]), opt_state, value

    greedy = jax.jit(lambda params, x: q_values(params, x).argmax())
    n = s["buffer_size"]
    memory = {"obs": np.zeros((n, D), np.float32), "next_obs": np.zeros((n, D), np.float32),
              "actions": np.zeros(n, np.int32), "rewards": np.zeros(n, np.float32),
              "terminated": np.zeros(n, np.float32)}
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    obs, _ = env.reset(seed=0)
    size = 0
    for step in range(steps):
        epsilon = max(s["epsilon_end"], 1.0 - (1.0 - s["epsilon_end"]) * step / s["exploration_steps"])
        action = int(rng.integers(A)) if rng.random() < epsilon else int(greedy(params, obs))
        next_obs, reward, terminated, truncated, _ = env.step(action)
        i = step % n
        memory["obs"][i], memory["actions"][i], memory["rewards"][i] = obs, action, reward
        memory["next_obs"][i], memory["terminated"][i] = next_obs, terminated
        size = min(size + 1, n)
        obs = env.reset()[0] if terminated or truncated else next_obs
        if step >= s["learning_starts"]:
            idx = rng.integers(0, size, s["batch_size"])
            params, target, opt_state, _ = update(params, target, opt_state, *(memory[k][idx] for k in (
                "obs", "actions", "rewards", "next_obs", "terminated")))
    jax.block_until_ready(params)
    return time.perf_counter() - start


LIBRARIES = {  # name: (module that must be installed, how the child process trains)
    "minidqn": (None, lambda steps: train_minidqn(steps, as_configured=False)),
    "minidqn as configured": (None, lambda steps: train_minidqn(steps, as_configured=True)),
    "Stable-Baselines3": ("stable_baselines3", train_sb3),
    "JAX (CleanRL's loop)": ("optax", train_jax),
}


def child(name: str, steps: int, pin: bool) -> None:
    """Run in a process of its own: train, print the training loop's seconds as JSON."""
    if pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, the same for every library
    print(json.dumps({"train_seconds": LIBRARIES[name][1](steps)}))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=12_000, help="env steps each library trains")
    parser.add_argument("--rounds", type=int, default=7, help="times each library runs, in turn")
    parser.add_argument("--libraries", default=",".join(LIBRARIES),
                        help=f"which to time, comma-separated (default: all of {', '.join(LIBRARIES)})")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="let each process use every core")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.steps, args.pin)
    asked = [name.strip() for name in args.libraries.split(",")]
    unknown = [name for name in asked if name not in LIBRARIES]
    if unknown or "minidqn" not in asked:
        parser.error(f"--libraries must include minidqn and name only {', '.join(LIBRARIES)}; got {args.libraries}")
    names = [name for name in asked if LIBRARIES[name][0] is None or importlib.util.find_spec(LIBRARIES[name][0])]
    skipped = [name for name in asked if name not in names]
    print(f"CartPole-v1, {args.steps:,} env steps, one gradient step each, {args.rounds} rounds of "
          f"{', '.join(names)}, " + ("each on one core" if args.pin else "on every core")
          + (f" ({', '.join(skipped)}: not installed)" if skipped else ""), flush=True)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1", "JAX_PLATFORMS": "cpu"}
    runs = {name: [] for name in names}  # (whole-process seconds, training seconds) per round
    for round_ in range(args.rounds):
        for name in names:
            start = time.perf_counter()
            command = [sys.executable, __file__, "--child", name, "--steps", str(args.steps)]
            out = subprocess.run(command + ([] if args.pin else ["--no-pin"]), capture_output=True, text=True,
                                 env=env, check=True).stdout
            runs[name].append((time.perf_counter() - start, json.loads(out.splitlines()[-1])["train_seconds"]))
        print(f"round {round_ + 1}: " + ", ".join(f"{name} {runs[name][-1][0]:.2f} s" for name in names), flush=True)
    base = [whole for whole, _ in runs["minidqn"]]
    results = {}
    for name in names:
        whole = [w for w, _ in runs[name]]
        per_step = statistics.median(t for _, t in runs[name]) / args.steps * 1e6
        ratios = [w / b for w, b in zip(whole, base)]
        results[name] = {"whole_seconds": statistics.median(whole), "train_us_per_step": per_step,
                         "ratio_to_minidqn": statistics.median(ratios), "ratio_range": [min(ratios), max(ratios)]}
        print(f"{name:<24} whole process {statistics.median(whole):6.2f} s, training {per_step:6.1f} µs/step; "
              f"its time / minidqn's: median {statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})")
    return results


if __name__ == "__main__":
    main()
