"""The probe records what the networks say about fixed inputs, and changes nothing about the run."""

import gymnasium as gym
import numpy as np
import pytest

from minidqn import DQNAgent, DQNConfig
from minidqn.pictures.probe import Probe, train_probed

CONFIG = DQNConfig(learning_starts=100, batch_size=16, hidden_sizes=(16,), tau=1.0, target_update_interval=50)


def _train(probe: bool, steps: int = 600, batch_size: int = 5):
    env = gym.make("CartPole-v1")
    if probe:
        return train_probed(env, CONFIG, steps, seed=3, every=20, batch_size=batch_size)
    agent = DQNAgent(env.observation_space, env.action_space, CONFIG, seed=3)
    agent.train(env, steps, verbose=0)
    return agent, env


def test_a_probed_run_is_the_same_run_bit_for_bit():
    plain, _ = _train(probe=False)
    probed, _ = _train(probe=True)
    np.testing.assert_array_equal(plain.online.flat_params, probed.online.flat_params)
    np.testing.assert_array_equal(plain.buffer.rows(), probed.buffer.rows())


def test_the_probe_records_both_networks_and_a_fixed_batch_of_targets():
    agent, probe = _train(probe=True, batch_size=30)
    assert probe.steps.tolist() == list(range(20, 601, 20))
    assert probe.online_q.shape == probe.target_q.shape == (30, 2) and probe.td_targets.shape == (30, 30)
    assert np.all(np.isnan(probe.td_targets[0])) and not np.any(np.isnan(probe.td_targets[1:]))  # 19 stored, then 39
    # Updates begin at env step 101 and a hard copy follows every 50th: steps 150, 200, ..., 600. A
    # record comes before its step's update, so the 30 records see 9 copies: 10 distinct target
    # values, while the online network moves at each of the 25 records after step 100.
    assert len(np.unique(probe.target_q[:, 0])) == 10
    assert len(np.unique(probe.online_q[:, 0])) == 1 + 25
    np.testing.assert_array_equal(probe.online_q[:5], np.repeat(probe.online_q[:1], 5, axis=0))
    assert agent.num_updates == 500  # and step 600's update made the 10th copy, after the last record
    np.testing.assert_array_equal(agent.target.flat_params, agent.online.flat_params)


def test_a_probe_without_its_agent_says_what_is_missing():
    env = Probe(gym.make("CartPole-v1"), every=1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="Probe.agent is not set"):
        env.step(0)


@pytest.mark.parametrize("name, value", [("every", 0), ("batch_size", 1.5)])
def test_bad_probe_arguments_are_refused(name, value):
    with pytest.raises(ValueError, match=name):
        Probe(gym.make("CartPole-v1"), **{name: value})
