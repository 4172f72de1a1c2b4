"""The replay buffer: eviction order, sample shapes and dtypes, and consistency of sampled rows."""

import numpy as np
import pytest

from minidqn.memory.compact import CompactReplayBuffer
from minidqn.memory.deque_replay import ReplayBuffer
from minidqn.memory.ring import RingReplayBuffer

TWINS = pytest.mark.parametrize("make", [ReplayBuffer, RingReplayBuffer])  # the deque and the ring it equals


def _push(buffer, i, D=3):
    obs = np.full(D, i, dtype=float)
    buffer.push(obs, i % 2, float(i) * 10, obs + 0.5, i % 3 == 0)


@TWINS
def test_eviction_drops_the_oldest_first(make):
    buffer = make(capacity=3)
    for i in range(5):
        _push(buffer, i)
    assert len(buffer) == 3
    assert buffer.rows()[:, 0].tolist() == [2.0, 3.0, 4.0]


@TWINS
def test_sample_shapes_and_dtypes(make):
    buffer = make(capacity=100)
    for i in range(10):
        _push(buffer, i, D=4)
    obs, actions, rewards, next_obs, terminated, *_ = buffer.sample(7, np.random.default_rng(0))
    assert obs.shape == (7, 4) and next_obs.shape == (7, 4)
    assert actions.shape == rewards.shape == terminated.shape == (7,)
    assert actions.dtype == np.int64
    assert obs.dtype == rewards.dtype == next_obs.dtype == terminated.dtype == np.float32
    assert set(np.unique(terminated)) <= {0.0, 1.0}


@TWINS
def test_sampled_fields_come_from_the_same_transition(make):
    buffer = make(capacity=50, dtype=np.float64)
    for i in range(20):
        _push(buffer, i)
    obs, actions, rewards, next_obs, terminated, *_ = buffer.sample(64, np.random.default_rng(1))
    i = obs[:, 0]
    np.testing.assert_array_equal(obs, np.repeat(i[:, None], 3, axis=1))
    np.testing.assert_array_equal(actions, i.astype(int) % 2)
    np.testing.assert_array_equal(rewards, i * 10)
    np.testing.assert_array_equal(next_obs, obs + 0.5)
    np.testing.assert_array_equal(terminated, (i.astype(int) % 3 == 0).astype(float))


@TWINS
def test_sampling_is_uniform_and_seeded(make):
    buffer = make(capacity=4)
    for i in range(4):
        _push(buffer, i)
    first = buffer.sample(4000, np.random.default_rng(5))[0][:, 0]
    again = buffer.sample(4000, np.random.default_rng(5))[0][:, 0]
    np.testing.assert_array_equal(first, again)
    counts = np.bincount(first.astype(int), minlength=4)
    assert np.all(np.abs(counts - 1000) < 150)  # ±4.7 standard deviations


@TWINS
def test_bad_use_is_refused(make):
    with pytest.raises(ValueError, match="capacity"):
        make(0)
    buffer = make(5)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(1, np.random.default_rng(0))
    _push(buffer, 0, D=3)
    with pytest.raises(ValueError, match="3 elements"):
        buffer.push(np.zeros(4), 0, 0.0, np.zeros(4), False)
    with pytest.raises(ValueError, match="batch_size"):
        buffer.sample(0, np.random.default_rng(0))


@TWINS
def test_a_batch_of_one_is_a_batch(make):
    buffer = make(capacity=10)
    for i in range(5):
        _push(buffer, i, D=2)
    obs, actions, rewards, next_obs, terminated, *_ = buffer.sample(1, np.random.default_rng(0))
    assert obs.shape == next_obs.shape == (1, 2) and actions.shape == rewards.shape == terminated.shape == (1,)
    np.testing.assert_array_equal(next_obs, obs + 0.5)


@TWINS
def test_rows_round_trip_through_state_oldest_first(make):
    buffer = make(capacity=4)
    for i in range(6):
        _push(buffer, i)
    rows = buffer.rows()  # (4, 2·3 + 3)
    assert rows.shape == (4, 9) and rows[:, 0].tolist() == [2.0, 3.0, 4.0, 5.0]
    twin = make(capacity=4)
    twin.load_state(*buffer.state())
    np.testing.assert_array_equal(twin.rows(), rows)
    assert twin.obs_dim == 3
    batch, twin_batch = buffer.sample(16, np.random.default_rng(3)), twin.sample(16, np.random.default_rng(3))
    for field, twin_field in zip(batch[:5], twin_batch[:5], strict=True):  # the transitions, not where each is stored
        np.testing.assert_array_equal(field, twin_field)
    rows[0, 0] = 99.0  # rows() is a copy: changing it leaves the memory alone
    assert buffer.rows()[0, 0] == 2.0


@TWINS
def test_loading_refuses_rows_of_the_wrong_shape_and_changes_nothing(make):
    buffer = make(capacity=4)
    _push(buffer, 0, D=3)
    for rows, obs_dim in [(np.zeros((2, 8)), 2), (np.zeros(9), 3), (np.zeros((2, 11)), 3), (np.zeros((5, 9)), 3)]:
        with pytest.raises(ValueError, match="2D|capacity"):
            buffer.load_state({"obs_dim": obs_dim}, {"rows": rows.astype(np.float32)})
    assert len(buffer) == 1 and buffer.rows()[0, 0] == 0.0


# --- the ring: the same memory, sampled at a cost independent of its size -----------------------
@pytest.mark.parametrize("capacity, pushes", [(5, 3), (5, 5), (5, 13), (1, 4), (100, 250)])
def test_the_ring_holds_and_samples_the_same_transitions_as_the_deque(capacity, pushes):
    deque_buffer, ring = ReplayBuffer(capacity, dtype=np.float64), RingReplayBuffer(capacity, dtype=np.float64)
    for i in range(pushes):
        for buffer in (deque_buffer, ring):
            _push(buffer, i)
    assert len(ring) == len(deque_buffer) == min(capacity, pushes)
    np.testing.assert_array_equal(ring.rows(), deque_buffer.rows())
    for i in range(-len(ring), len(ring)):
        np.testing.assert_array_equal(ring[i], deque_buffer[i])
    for seed in range(3):  # the same transitions, each stored at its own kind of position
        ring_batch, deque_batch = ring.sample(32, np.random.default_rng(seed)), deque_buffer.sample(32, np.random.default_rng(seed))
        for a, b in zip(ring_batch[:5], deque_batch[:5], strict=True):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ring.positions(deque_batch.positions), ring_batch.positions)


def test_the_ring_saves_and_loads_like_the_deque():
    ring, other = RingReplayBuffer(4), RingReplayBuffer(4)
    for i in range(6):
        _push(ring, i)
    other.load_state(*ring.state())
    np.testing.assert_array_equal(other.rows(), ring.rows())
    _push(other, 6)
    _push(ring, 6)
    np.testing.assert_array_equal(other.rows(), ring.rows())
    assert other.rows()[:, 0].tolist() == [3.0, 4.0, 5.0, 6.0]


@pytest.mark.parametrize("make", [ReplayBuffer, RingReplayBuffer, CompactReplayBuffer])
def test_a_stored_transition_reads_back_by_name(make):
    buffer = make(3)
    for t in range(5):  # the first two are evicted
        buffer.push(np.array([t, 2 * t]), action=t % 2, reward=0.5 * t, next_obs=np.array([t + 1, 0]),
                    terminated=t == 4)
    newest, oldest = buffer.transition(-1), buffer.transition(0)
    assert newest.action == 0 and newest.reward == 2.0 and newest.terminated is True
    np.testing.assert_array_equal(newest.obs, [4, 8])
    np.testing.assert_array_equal(newest.next_obs, [5, 0])
    assert oldest.action == 0 and oldest.reward == 1.0 and oldest.terminated is False
    assert "reward=1.0" in repr(oldest) and "action=0" in repr(oldest)
    with pytest.raises(IndexError):
        buffer.transition(3)


@pytest.mark.parametrize("make", [ReplayBuffer, RingReplayBuffer, CompactReplayBuffer])
@pytest.mark.parametrize("obs", [np.array(["a", "b"]), np.array([1 + 2j, 0]), np.array([None, 1], dtype=object)])
def test_an_observation_of_no_real_numbers_is_refused_by_name(make, obs):
    buffer = make(4)
    with pytest.raises(ValueError, match="real numbers"):
        buffer.push(obs, 0, 0.0, np.zeros(2), False)
    assert len(buffer) == 0
