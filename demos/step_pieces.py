"""Where one env step of training goes: each piece of DQNAgent.train's loop timed alone, and the floor under them.

An agent trains for --warmup env steps (so replay holds transitions and learning has begun); then
each piece of one step of its loop (minidqn/agents/dqn.py, `train`) is called on its own, many
times, with `timeit`, best of --repeat, on one BLAS thread as training runs:

    env step alone, the env boundary's checks, acting greedily, the n-step window and storing,
    sampling a batch, the TD target, the online forward pass, the loss, the backward pass,
    Adam's step, the target network's update, and one gradient step with all of them in turn.

Below them, the floor: what NumPy itself charges for the smallest pieces a step is made of (one
product per layer for one observation, the batch's largest product, and a call on a small array).
The pieces run on the live agent, so timing Adam's step moves its parameters: the agent is
thrown away afterwards. Times are µs per call; a shared machine moves them by ±25% from run to run,
so compare pieces of one run, not runs.

    python demos/step_pieces.py                               # CartPole-v1, DQNConfig()
    python demos/step_pieces.py --env MinAtar/Breakout-v1     # the MinAtar preset (the minatar extra)

Results: docs/benchmarks.md ("Speed, side by side") and docs/pixels.md.
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np
from threadpoolctl import threadpool_limits

from minidqn import DQNAgent, DQNConfig
from minidqn.agents.target_network import soft_update
from minidqn.cli.presets import preset_for
from minidqn.cli.run_reading import make_env
from minidqn.nn.conv import Conv2D
from minidqn.training import env_api


def make_agent(env_id: str, warmup: int, seed: int = 0):
    """(agent, env) after `warmup` steps of training: CartPole-v1 with DQNConfig() (ε over 5,000
    steps, as the speed benchmark), any other env with its preset."""
    env = make_env(env_id)
    config = DQNConfig(exploration_steps=5_000) if env_id == "CartPole-v1" else preset_for(env_id).config
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=seed)
    agent.train(env, warmup, verbose=0)
    return agent, env


def pieces(agent: DQNAgent, env) -> dict:
    """{name: a function doing that piece of one training step once}, in the loop's order."""
    obs = agent.start_episode(env)
    batch = agent.replay_batch()
    q = agent.online.forward(batch.obs)
    y = agent.td_target(batch.rewards, batch.next_obs, batch.terminated)
    grad_q = agent.head.loss(q, batch.actions, y, batch.weights)[1]
    agent.online.backward(grad_q, input_grad=False)
    state = {"obs": obs, "updates": 0}

    def env_step():
        _, _, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            env.reset()

    def boundary():  # env_api.step's checks and the observation's, around an env step
        next_obs, _, terminated, truncated = env_api.step(env, 0, at=1)
        state["obs"] = agent.observe(next_obs, at=1)
        if terminated or truncated:
            state["obs"] = agent.observe(env.reset()[0], at=1)

    def store():
        for transition in agent.n_step_transitions.add(obs, 0, 1.0, obs, False, False):
            agent.buffer.push(*transition)

    def gradient_step():
        b = agent.replay_batch()
        target = agent.td_target(b.rewards, b.next_obs, b.terminated)
        outputs = agent.online.forward(b.obs)
        agent.online.backward(agent.head.loss(outputs, b.actions, target, b.weights)[1], input_grad=False)
        agent.optimizer.step([agent.online.flat_grads])
        state["updates"] += 1
        if state["updates"] % agent.config.target_update_interval == 0:  # as often as the loop moves it
            soft_update(agent.target, agent.online, agent.config.tau)

    return {
        "env step alone": env_step,
        "the env boundary: an env step with its checks, and the observation": boundary,
        "acting greedily: one forward pass of one observation, then argmax": lambda: agent._act(state["obs"], 0.0),
        "n-step window and storing": store,
        "sampling a batch": agent.replay_batch,
        "TD target: the forward passes on s′": lambda: agent.td_target(batch.rewards, batch.next_obs,
                                                                       batch.terminated),
        "online forward pass": lambda: agent.online.forward(batch.obs),
        "loss and its gradient": lambda: agent.head.loss(q, batch.actions, y, batch.weights),
        "backward pass": lambda: agent.online.backward(grad_q, input_grad=False),
        f"Adam step ({agent.online.num_params:,} parameters)": lambda: agent.optimizer.step([agent.online.flat_grads]),
        f"target network update (once every {agent.config.target_update_interval:,} gradient steps)":
            lambda: soft_update(agent.target, agent.online, agent.config.tau),
        "one gradient step in all (sampling to target update)": gradient_step,
    }


def floor(agent: DQNAgent) -> dict:
    """{name: a function}: the smallest NumPy pieces a step is made of, on the agent's own shapes."""
    rng = np.random.default_rng(0)
    B, dtype = agent.config.batch_size, agent.online.dtype
    matrices = [layer.W for layer in agent.online.layers if getattr(layer, "W", None) is not None and layer.W.ndim == 2]
    last, big = matrices[-1], max(matrices, key=np.size)  # the output layer's weights, and the largest
    one_obs = np.zeros((1, agent.obs_dim), dtype)
    row = rng.standard_normal((1, last.shape[0])).astype(dtype)
    batch_in = rng.standard_normal((B, big.shape[0])).astype(dtype)
    h = rng.standard_normal((B, big.shape[1])).astype(dtype)
    conv = {}
    if isinstance(agent.online.layers[0], Conv2D):  # a pixels network: its convolution's two steps
        layer, images = agent.online.layers[0], np.zeros((B, *agent.obs_shape), dtype)
        X_col, W_mat = layer.im2col(images), layer.W.reshape(-1, layer.C_out)
        conv = {f"im2col of a batch of {B}: {X_col.shape}": lambda: layer.im2col(images),
                f"{X_col.shape}·{W_mat.shape}: the convolution's product": lambda: X_col @ W_mat}
    return {
        **conv,
        "one forward pass of one observation, the whole network": lambda: agent.online(one_obs),
        f"(1, {last.shape[0]})·{tuple(last.shape)}: the output layer, one observation": lambda: row @ last,
        f"({B}, {big.shape[0]})·{tuple(big.shape)}: the batch's largest product": lambda: batch_in @ big,
        f"np.maximum(h, 0), h ({B}, {big.shape[1]})": lambda: np.maximum(h, 0),
        f"h.sum(axis=0), h ({B}, {big.shape[1]})": lambda: h.sum(axis=0),
    }


def time_all(functions: dict, number: int, repeat: int) -> dict[str, float]:
    """{name: µs per call, the best of `repeat` runs of `number` calls}."""
    return {name: min(timeit.repeat(f, number=number, repeat=repeat)) / number * 1e6 for name, f in functions.items()}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="CartPole-v1", help="CartPole-v1 (DQNConfig()), or an env with a preset")
    parser.add_argument("--warmup", type=int, default=3_000, help="env steps trained before the timing")
    parser.add_argument("--number", type=int, default=1_000, help="calls per timing")
    parser.add_argument("--repeat", type=int, default=5, help="timings of each piece; the best is kept")
    args = parser.parse_args(argv)
    with threadpool_limits(limits=1, user_api="blas"):
        agent, env = make_agent(args.env, args.warmup)
        times = {"pieces": time_all(pieces(agent, env), args.number, args.repeat),
                 "floor": time_all(floor(agent), args.number, args.repeat)}
    for part, heading in (("pieces", "piece of one env step"), ("floor", "the floor under them")):
        print(f"\n| {heading} ({args.env}) | µs |\n|---|---|")
        for name, us in times[part].items():
            print(f"| {name} | {us:,.1f} |")
    return times


if __name__ == "__main__":
    main()
