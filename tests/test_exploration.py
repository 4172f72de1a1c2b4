"""Boltzmann exploration: the softmax of Q/T, computed without overflow, and drawn by the agent."""

import gymnasium as gym
import numpy as np
import pytest

from minidqn import DQNAgent, DQNConfig
from minidqn.agents.exploration import boltzmann_probabilities


def test_boltzmann_probabilities_are_the_softmax_of_q_over_t():
    q = np.array([0.5, -1.0, 2.0, 2.0])
    for T in (0.1, 1.0, 10.0):
        expected = np.exp(q / T) / np.exp(q / T).sum()  # the textbook form, safe for these q
        np.testing.assert_allclose(boltzmann_probabilities(q, T), expected, rtol=1e-12)


def test_large_q_values_and_small_temperatures_do_not_overflow():
    p = boltzmann_probabilities(np.array([1e4, 1e4 - 1.0, -1e4]), temperature=1e-3)
    assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0) and p[0] == pytest.approx(1.0)
    np.testing.assert_allclose(boltzmann_probabilities(np.array([3.0, 3.0]), 1e-9), [0.5, 0.5])
    with pytest.raises(ValueError, match="temperature"):
        boltzmann_probabilities(np.array([1.0]), 0.0)


def test_the_agent_draws_actions_with_the_boltzmann_probabilities():
    """20,000 draws, seed 0: each action's frequency within 4 standard errors of P(a|s)."""
    env = gym.make("Acrobot-v1")  # three actions
    agent = DQNAgent(env.observation_space, env.action_space, DQNConfig(exploration="boltzmann", temperature=0.5))
    obs = agent.observe(env.reset(seed=0)[0])
    p = boltzmann_probabilities(agent.q_values(obs), 0.5)
    draws = 20_000
    counts = np.bincount([agent.explore(obs, agent.epsilon()) for _ in range(draws)], minlength=3)
    assert agent.epsilon() == 0.0 and p.min() > 0.01  # a case where every action has a real chance
    assert np.all(np.abs(counts / draws - p) < 4 * np.sqrt(p * (1 - p) / draws)), (counts / draws, p)


def test_boltzmann_training_runs_and_evaluation_stays_greedy():
    env = gym.make("CartPole-v1")
    agent = DQNAgent(env.observation_space, env.action_space,
                     DQNConfig(exploration="boltzmann", temperature=1.0, learning_starts=100), seed=0)
    history = agent.train(env, 600, verbose=0)
    assert set(history.epsilon) == {0.0} and agent.num_updates == 500
    greedy = [agent.act(o) for o in np.random.default_rng(0).normal(size=(20, 4))]
    assert greedy == [int(agent.q_values(o).argmax()) for o in np.random.default_rng(0).normal(size=(20, 4))]
