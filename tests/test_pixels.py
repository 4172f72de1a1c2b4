"""DQN with a convolutional network: image observations in, flattened rows in replay, the same agent."""

import numpy as np
import pytest
from envs import SpotEnv
from gymnasium import spaces

from minidqn import DQNAgent, DQNConfig
from minidqn.agents.policy import GreedyPolicy
from minidqn.nn.conv import ConvNet

CONV = DQNConfig(conv_layers=((4, 3),), hidden_sizes=(16,), batch_size=16, buffer_size=2000, learning_starts=200,
                 exploration_steps=800, lr_decay_steps=2000, n_step=1)


def test_a_conv_agent_learns_where_the_pixel_is():
    env = SpotEnv()
    agent = DQNAgent(env.observation_space, env.action_space, CONV, seed=0)
    assert isinstance(agent.online, ConvNet) and agent.obs_shape == (5, 6, 1) and agent.obs_dim == 30
    before = agent.evaluate(SpotEnv(), episodes=200, seed=1).mean()
    agent.train(env, 2000, verbose=0)
    after = agent.evaluate(SpotEnv(), episodes=200, seed=1).mean()
    assert after >= 0.95 and after - before > 0.2, (before, after)  # a random policy scores 0.5
    assert agent.buffer.rows().shape[1] == 2 * 30 + 3  # replay holds the images flattened


def test_q_values_and_predict_take_images_one_or_a_batch():
    env = SpotEnv()
    agent = DQNAgent(env.observation_space, env.action_space, CONV, seed=0)
    images = np.random.default_rng(0).random((3, 5, 6, 1))
    assert agent.q_values(images).shape == (3, 2) and agent.predict(images).shape == (3,)
    np.testing.assert_allclose(agent.q_values(images[1]), agent.q_values(images)[1], rtol=1e-6)
    with pytest.raises(ValueError, match=r"observations must have shape \(5, 6, 1\) or \(B, 5, 6, 1\), got \(3, 30\)"):
        agent.q_values(images.reshape(3, 30))


def test_a_conv_agent_and_its_policy_save_and_load_with_every_q_value(tmp_path):
    env = SpotEnv()
    agent = DQNAgent(env.observation_space, env.action_space, CONV, seed=3)
    agent.train(env, 400, verbose=0)
    agent.save(tmp_path / "agent.npz")
    agent.policy().save(tmp_path / "policy.npz")
    loaded, policy = DQNAgent.load(tmp_path / "agent.npz"), GreedyPolicy.load(tmp_path / "policy.npz")
    images = np.random.default_rng(1).random((4, 5, 6, 1))
    np.testing.assert_array_equal(loaded.q_values(images), agent.q_values(images))
    np.testing.assert_array_equal(policy.q_values(images), agent.q_values(images))
    assert loaded.obs_shape == (5, 6, 1) and isinstance(loaded.target, ConvNet)
    loaded.train(env, 100, verbose=0)  # and it trains on


def test_images_need_conv_layers_and_conv_layers_need_images():
    image_space, vector_space = spaces.Box(0, 1, (5, 6, 1), np.float32), spaces.Box(-1, 1, (4,), np.float32)
    with pytest.raises(ValueError, match=r"shape \(D,\).*give the network conv layers"):
        DQNAgent(image_space, spaces.Discrete(2), DQNConfig())
    with pytest.raises(ValueError, match=r"shape \(H, W, C\).*Set conv_layers only for image observations"):
        DQNAgent(vector_space, spaces.Discrete(2), CONV)
    with pytest.raises(ValueError, match="2×2 filter does not fit the 1×2 maps"):
        DQNAgent(image_space, spaces.Discrete(2), DQNConfig(conv_layers=((4, 5), (4, 2))))
