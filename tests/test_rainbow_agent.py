"""The agent with a return distribution (C51, QR-DQN) and noisy layers: configured, trained, saved
and resumed exactly, its whole loss differentiated, and its acting without ε."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from minidqn import DQNAgent, DQNConfig
from minidqn.agents.policy import GreedyPolicy, q_network
from minidqn.agents.value_heads import (
    CategoricalHead,
    QuantileHead,
    ScalarHead,
    value_head,
)
from minidqn.nn.gradcheck import numerical_gradient, relative_error

SMALL = {"hidden_sizes": (16,), "batch_size": 16, "buffer_size": 500, "learning_starts": 100, "num_atoms": 11,
         "v_min": 0.0, "v_max": 100.0}
KINDS = [("categorical", False), ("quantile", False), ("categorical", True), (None, True), ("quantile", True)]


def small_agent(distribution, noisy, seed=0, **changes) -> tuple[DQNAgent, gym.Env]:
    env = gym.make("CartPole-v1")
    config = DQNConfig(**{**SMALL, "distribution": distribution, "noisy": noisy, **changes})
    return DQNAgent(env.observation_space, env.action_space, config, seed=seed), env


@pytest.mark.parametrize("distribution, noisy", KINDS)
def test_an_agent_trains_saves_and_resumes_exactly(tmp_path, distribution, noisy):
    agent, env = small_agent(distribution, noisy, seed=2)
    twin, twin_env = small_agent(distribution, noisy, seed=2)
    agent.train(env, 300, verbose=0)
    agent.save(tmp_path / "agent.npz")
    loaded = DQNAgent.load(tmp_path / "agent.npz")
    assert loaded.config == agent.config and loaded.online.architecture == agent.online.architecture
    loaded.train(gym.make("CartPole-v1"), 200, verbose=0)
    twin.train(twin_env, 300, verbose=0)
    twin.train(twin_env, 200, verbose=0)  # one process, no save in between
    np.testing.assert_array_equal(loaded.online.flat_params, twin.online.flat_params)
    np.testing.assert_array_equal(loaded.target.flat_params, twin.target.flat_params)
    assert loaded.q_values(np.zeros(4)).shape == (2,)


@pytest.mark.parametrize("distribution", ["categorical", "quantile"])
@pytest.mark.parametrize("dueling", [False, True])
def test_the_whole_loss_of_a_batch_is_differentiated_through_the_network(distribution, dueling):
    """The head's loss on the network's outputs, against finite differences in every parameter:
    the reshape to (B, A, N), the dueling over each atom and the head's gradient, together."""
    config = DQNConfig(**{**SMALL, "distribution": distribution, "dueling": dueling, "dtype": "float64"})
    network, head = q_network((4,), 3, config, seed=1), value_head(config)
    rng = np.random.default_rng(0)
    obs, actions = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
    next_outputs = network(rng.normal(size=(6, 4)))
    target = head.target(rng.uniform(0, 2, 6), np.array([0.99, 0, 0.97, 0.99, 0.5, 0]), next_outputs,
                         rng.integers(0, 3, 6))
    weights = rng.uniform(0.5, 1.0, 6)

    def loss() -> float:
        return head.loss(network(obs), actions, target, weights)[0]

    _, grad_outputs, _, _ = head.loss(network.forward(obs), actions, target, weights)
    network.backward(grad_outputs)
    assert relative_error(network.flat_grads.copy(), numerical_gradient(loss, network.flat_params)) < 1e-6


def test_q_is_the_mean_of_the_distribution():
    config = DQNConfig(**{**SMALL, "distribution": "categorical", "num_atoms": 3, "v_min": -1.0, "v_max": 1.0})
    logits = np.log(np.array([[0.2, 0.3, 0.5, 1.0, 1.0, 2.0]]))  # two actions, three atoms each
    np.testing.assert_allclose(CategoricalHead(config).q_values(logits), [[0.3, 0.25]])
    quantiles = np.array([[1.0, 2.0, 6.0, -1.0, 0.0, 1.0]])
    np.testing.assert_allclose(QuantileHead(config).q_values(quantiles), [[3.0, 0.0]])
    assert isinstance(value_head(DQNConfig()), ScalarHead)


def test_noisy_layers_explore_and_evaluation_uses_the_mean_weights():
    agent, env = small_agent(None, True)
    assert agent.epsilon(0) == 0.0  # no ε: the noise explores
    obs = agent.observe(env.reset(seed=0)[0])
    outputs = set()
    for _ in range(20):
        agent.explore(obs, agent.epsilon())
        outputs.add(float(agent.online(obs[None])[0, 0]))
    assert len(outputs) == 20  # fresh noise for every step it acts
    first = agent.evaluate(env, episodes=2, seed=5)
    agent.explore(obs, 0.0)  # noise again ...
    np.testing.assert_array_equal(agent.evaluate(env, episodes=2, seed=5), first)  # ... and gone for evaluation
    policy = agent.policy()
    np.testing.assert_array_equal(policy.q_values(obs), agent.q_values(obs))


def test_a_greedy_policy_of_a_distributional_agent_saves_and_acts(tmp_path):
    agent, env = small_agent("quantile", True)
    agent.train(env, 200, verbose=0)
    agent.policy().save(tmp_path / "policy.npz")
    policy = GreedyPolicy.load(tmp_path / "policy.npz")
    observations = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_array_equal(policy.predict(observations), agent.predict(observations))


@pytest.mark.parametrize("changes, message", [
    ({"distribution": "gaussian"}, "distribution must be None, 'categorical' or 'quantile'"),
    ({"num_atoms": 1}, "num_atoms must be an integer in"),
    ({"v_min": 5.0, "v_max": 5.0}, "v_max must be a finite number above v_min"),
    ({"noisy": "yes"}, "noisy must be True or False"),
    ({"noisy_sigma0": 0.0}, "noisy_sigma0 must be a finite number > 0"),
    ({"noisy": True, "exploration": "boltzmann"}, "exploration must be an ε schedule with noisy=True"),
])
def test_settings_that_cannot_work_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        DQNConfig(**changes)


def test_the_parameter_bound_counts_atoms_and_noise():
    config = DQNConfig(hidden_sizes=(3000, 3000), distribution="categorical", num_atoms=1000, noisy=True)
    with pytest.raises(ValueError, match="parameters, more than"):
        config.check_network((8,), 18)
    DQNConfig(hidden_sizes=(3000, 3000)).check_network((8,), 18)  # the same network, plain, fits
