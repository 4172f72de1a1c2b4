"""The replay buffer: eviction order, sample shapes and dtypes, and consistency of sampled rows."""

import numpy as np
import pytest

from minidqn.replay import ReplayBuffer


def _push(buffer, i, D=3):
    obs = np.full(D, i, dtype=float)
    buffer.push(obs, i % 2, float(i) * 10, obs + 0.5, i % 3 == 0)


def test_eviction_drops_the_oldest_first():
    buffer = ReplayBuffer(capacity=3)
    for i in range(5):
        _push(buffer, i)
    assert len(buffer) == 3
    assert [row[0] for row in buffer.memory] == [2.0, 3.0, 4.0]


def test_sample_shapes_and_dtypes():
    buffer = ReplayBuffer(capacity=100)
    for i in range(10):
        _push(buffer, i, D=4)
    obs, actions, rewards, next_obs, terminated = buffer.sample(7, np.random.default_rng(0))
    assert obs.shape == (7, 4) and next_obs.shape == (7, 4)
    assert actions.shape == rewards.shape == terminated.shape == (7,)
    assert actions.dtype == np.int64
    assert obs.dtype == rewards.dtype == next_obs.dtype == terminated.dtype == np.float32
    assert set(np.unique(terminated)) <= {0.0, 1.0}


def test_sampled_fields_come_from_the_same_transition():
    buffer = ReplayBuffer(capacity=50, dtype=np.float64)
    for i in range(20):
        _push(buffer, i)
    obs, actions, rewards, next_obs, terminated = buffer.sample(64, np.random.default_rng(1))
    i = obs[:, 0]
    np.testing.assert_array_equal(obs, np.repeat(i[:, None], 3, axis=1))
    np.testing.assert_array_equal(actions, i.astype(int) % 2)
    np.testing.assert_array_equal(rewards, i * 10)
    np.testing.assert_array_equal(next_obs, obs + 0.5)
    np.testing.assert_array_equal(terminated, (i.astype(int) % 3 == 0).astype(float))


def test_sampling_is_uniform_and_seeded():
    buffer = ReplayBuffer(capacity=4)
    for i in range(4):
        _push(buffer, i)
    first = buffer.sample(4000, np.random.default_rng(5))[0][:, 0]
    again = buffer.sample(4000, np.random.default_rng(5))[0][:, 0]
    np.testing.assert_array_equal(first, again)
    counts = np.bincount(first.astype(int), minlength=4)
    assert np.all(np.abs(counts - 1000) < 150)  # ±4.7 standard deviations


def test_bad_use_is_refused():
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0)
    buffer = ReplayBuffer(5)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(1, np.random.default_rng(0))
    _push(buffer, 0, D=3)
    with pytest.raises(ValueError, match="3 elements"):
        buffer.push(np.zeros(4), 0, 0.0, np.zeros(4), False)
    with pytest.raises(ValueError, match="batch_size"):
        buffer.sample(0, np.random.default_rng(0))
