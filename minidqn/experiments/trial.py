"""One trial: an agent trained on one seed for a budget, measured greedily as it trains.

The job is a plain dict, so that it crosses to a worker process: `config` (a DQNConfig as a
dict), `seed`, `env_id`, `steps`, `eval_every`, and optionally `target` (a return that counts as
solved, else the env's reward threshold) and `wrap` (a gymnasium wrapper for the training env
only, as the ablation's "trunc = term" row uses).
"""

from __future__ import annotations

import time

import gymnasium as gym

from minidqn.agents.config import DQNConfig
from minidqn.agents.dqn import DQNAgent
from minidqn.training.evaluation import EvaluateEvery


def run_seed(job: dict) -> dict:
    """Train one seed and measure it; runs in a worker process."""
    config, seed = DQNConfig(**job["config"]), job["seed"]
    env, eval_env = gym.make(job["env_id"]), gym.make(job["env_id"])
    if job.get("wrap") is not None:  # a change to the training env only (the ablation's rows)
        env = job["wrap"](env)
    threshold = job.get("target") if job.get("target") is not None else env.spec.reward_threshold
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=seed)
    evaluate_every = EvaluateEvery(job["eval_every"], eval_env, episodes=10)  # greedy mean of 10 episodes
    start = time.perf_counter()
    agent.train(env, job["steps"], callback=evaluate_every, verbose=0)
    train_seconds = time.perf_counter() - start - evaluate_every.eval_seconds
    final = float(agent.evaluate(eval_env, episodes=20, seed=99_999).mean())
    solved = None if threshold is None else evaluate_every.first_step_at_least(threshold)
    seconds = None if solved is None else evaluate_every.train_seconds[evaluate_every.steps.index(solved)]
    return {
        "seed": seed,
        "steps_to_solve": solved,
        "seconds_to_solve": seconds,
        "final_mean_20": final,
        "final_holds": None if threshold is None else final >= threshold,
        "wall_seconds": time.perf_counter() - start,
        "threshold": threshold,
        "train_seconds": train_seconds,
        "steps_per_second": agent.num_steps / train_seconds,
        "evals": list(zip(evaluate_every.steps, evaluate_every.values)),
    }
