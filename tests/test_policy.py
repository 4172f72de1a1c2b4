"""The greedy policy alone (predict, export, load), and the envs an agent refuses with advice."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from minidqn import CheckpointError, DQNAgent, DQNConfig
from minidqn.agents.policy import GreedyPolicy
from minidqn.common.checkpoint import kind_of
from minidqn.training.evaluation import evaluate


def _trained(config=None, steps=400):
    env = gym.make("CartPole-v1")
    agent = DQNAgent(env.observation_space, env.action_space, config or DQNConfig(learning_starts=100), seed=3)
    agent.train(env, steps, verbose=0)
    return agent, env


def test_predict_gives_the_greedy_action_of_each_row(rng):
    agent, _ = _trained()
    obs = rng.normal(size=(200, 4))
    actions = agent.predict(obs)
    assert actions.shape == (200,) and actions.dtype.kind == "i"
    np.testing.assert_array_equal(actions, [agent.act(o) for o in obs])  # act with ε = 0 is greedy
    assert 0 < actions.sum() < 200  # both actions occur, so the comparison means something
    assert agent.predict(obs[0]) == agent.act(obs[0]) and agent.predict(obs[0]).shape == ()


@pytest.mark.parametrize("config", [DQNConfig(learning_starts=100),
                                    DQNConfig(learning_starts=100, dueling_type="max", dtype="float64"),
                                    DQNConfig(learning_starts=100, dueling=False, hidden_sizes=(8,))])
def test_an_exported_policy_acts_as_the_agent_and_is_a_small_file(tmp_path, rng, config):
    agent, env = _trained(config, steps=2000)
    agent.save(tmp_path / "agent.npz")
    agent.policy().save(tmp_path / "policy.npz")
    policy = GreedyPolicy.load(tmp_path / "policy.npz")
    obs = rng.normal(size=(100, 4))
    np.testing.assert_array_equal(policy.q_values(obs), agent.q_values(obs))
    np.testing.assert_array_equal(policy.predict(obs), agent.predict(obs))
    np.testing.assert_array_equal(agent.evaluate(env, 3, seed=5), evaluate(env, policy.act, 3, seed=5))
    # The agent holds θ four times (online, target, Adam's m and v) and the replay rows besides.
    assert (tmp_path / "policy.npz").stat().st_size * 4 < (tmp_path / "agent.npz").stat().st_size
    assert policy.config == agent.config
    assert (kind_of(tmp_path / "policy.npz"), kind_of(tmp_path / "agent.npz")) == ("GreedyPolicy", "DQNAgent")


def test_the_policy_is_a_copy_that_training_does_not_move():
    agent, env = _trained()
    policy = agent.policy()
    before = policy.network.flat_params.copy()
    agent.train(env, 200, verbose=0)
    np.testing.assert_array_equal(policy.network.flat_params, before)
    assert not np.array_equal(agent.online.flat_params, before)


def test_loading_an_agent_as_a_policy_or_a_policy_as_an_agent_says_which_it_is(tmp_path):
    agent, _ = _trained()
    agent.save(tmp_path / "agent.npz")
    agent.policy().save(tmp_path / "policy.npz")
    with pytest.raises(CheckpointError, match=r"holds a DQNAgent \(load it with DQNAgent.load\)"):
        GreedyPolicy.load(tmp_path / "agent.npz")
    with pytest.raises(CheckpointError, match="holds a GreedyPolicy"):
        DQNAgent.load(tmp_path / "policy.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError):
        kind_of(tmp_path / "junk.npz")


@pytest.mark.parametrize("bad, error, match", [
    (np.zeros((2, 3)), ValueError, r"shape \(4,\) or \(B, 4\)"),
    (np.zeros((2, 2, 4)), ValueError, "shape"),
    (np.full(4, np.nan), ValueError, "NaN"),
    (np.array(["a", "b", "c", "d"]), TypeError, "real numbers"),
])
def test_predict_refuses_observations_of_the_wrong_shape_or_kind(bad, error, match):
    agent, _ = _trained()
    for method in (agent.predict, agent.policy().predict):
        with pytest.raises(error, match=match):
            method(bad)


def test_a_vector_env_is_refused_with_a_message_about_vector_envs():
    vector_env = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")
    agent = DQNAgent(vector_env.single_observation_space, vector_env.single_action_space)
    with pytest.raises(ValueError, match="vector env .* pass gym.make"):
        agent.train(vector_env, 10, verbose=0)
    with pytest.raises(ValueError, match="vector env .* pass gym.make"):
        agent.evaluate(vector_env, 1)
    with pytest.raises(ValueError, match="spaces of a vector env"):
        DQNAgent(vector_env.observation_space, vector_env.action_space)


def test_a_discrete_observation_points_to_flatten_observation_which_makes_it_one_hot():
    env = gym.make("FrozenLake-v1")
    with pytest.raises(ValueError, match="FlattenObservation"):
        DQNAgent(env.observation_space, env.action_space)
    flat = gym.wrappers.FlattenObservation(env)
    agent = DQNAgent(flat.observation_space, flat.action_space, DQNConfig(learning_starts=10, batch_size=8))
    agent.train(flat, 50, verbose=0)
    obs, _ = flat.reset(seed=0)
    assert agent.obs_dim == 16 and obs.sum() == 1.0 and obs[0] == 1.0  # state 0, one-hot
    assert isinstance(flat.observation_space, spaces.Box)
