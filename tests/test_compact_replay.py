"""CompactReplayBuffer: the ring's transitions in a quarter of the memory, bit for bit the same batches."""

import numpy as np
import pytest
from envs import SpotEnv

from minidqn import CheckpointError, DQNAgent, DQNConfig
from minidqn.memory.compact import CompactReplayBuffer
from minidqn.memory.ring import RingReplayBuffer


def _fill(buffer, n, seed=0, D=12):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        obs, next_obs = rng.integers(0, 2, D).astype(bool), rng.integers(0, 256, D)  # booleans and bytes
        buffer.push(obs, int(rng.integers(6)), float(rng.normal()), next_obs, bool(rng.random() < 0.1))


@pytest.mark.parametrize("n", [5, 40, 95])  # not full, full, wrapped around more than once
def test_compact_replay_returns_the_rings_transitions_for_the_same_draws(n):
    ring, compact = RingReplayBuffer(40), CompactReplayBuffer(40)
    _fill(ring, n)
    _fill(compact, n)
    np.testing.assert_array_equal(compact.rows(), ring.rows())
    np.testing.assert_array_equal(compact[-1], ring[-1])
    assert compact.largest_action() == ring.largest_action()
    for a, b in zip(compact.sample(16, np.random.default_rng(3)), ring.sample(16, np.random.default_rng(3)), strict=True):
        np.testing.assert_array_equal(a, b)
        assert np.asarray(a).dtype == np.asarray(b).dtype


def test_compact_replay_keeps_observations_in_one_byte_each():
    compact = CompactReplayBuffer(1000)
    _fill(compact, 10, D=400)
    assert compact.observations.dtype == np.uint8 and compact.observations.shape == (1000, 800)
    assert compact.nbytes() == 1000 * 800 + 1000 * 3 * 4  # against 1000 · 803 · 4 bytes as float32 rows


def test_compact_replay_refuses_what_uint8_would_change():
    compact = CompactReplayBuffer(10)
    with pytest.raises(ValueError, match="whole numbers in \\[0, 255\\]; got 0.5"):
        compact.push(np.array([0.5, 1.0]), 0, 1.0, np.ones(2), False)
    with pytest.raises(ValueError, match="got 256"):
        compact.push(np.ones(2), 0, 1.0, np.array([256.0, 0.0]), False)
    assert len(compact) == 0


def test_compact_replay_state_round_trips_and_refuses_bad_files():
    compact = CompactReplayBuffer(30)
    _fill(compact, 50)
    meta, arrays = compact.state()
    assert arrays["observations"].dtype == np.uint8
    twin = CompactReplayBuffer(30)
    twin.load_state(meta, arrays)
    np.testing.assert_array_equal(twin.rows(), compact.rows())
    bad = {**arrays, "scalars": arrays["scalars"].copy()}
    bad["scalars"][0, 0] = 0.5
    with pytest.raises(ValueError, match="action column"):
        CompactReplayBuffer(30).load_state(meta, bad)
    with pytest.raises(ValueError, match="more than the capacity"):
        CompactReplayBuffer(10).load_state(meta, arrays)
    with pytest.raises(ValueError, match="must be uint8"):
        CompactReplayBuffer(30).load_state(meta, {**arrays, "observations": arrays["observations"].astype(np.float32)})


def test_an_agent_with_compact_replay_trains_saves_and_resumes_exactly(tmp_path):
    config = DQNConfig(conv_layers=((4, 3),), hidden_sizes=(16,), batch_size=16, buffer_size=500,
                       learning_starts=100, compact_observations=True)
    env = SpotEnv()
    agent, twin = (DQNAgent(env.observation_space, env.action_space, config, seed=2) for _ in range(2))
    agent.train(env, 300, verbose=0)
    assert isinstance(agent.buffer, CompactReplayBuffer)
    agent.save(tmp_path / "agent.npz")
    loaded = DQNAgent.load(tmp_path / "agent.npz")
    np.testing.assert_array_equal(loaded.buffer.rows(), agent.buffer.rows())
    loaded.train(SpotEnv(), 200, verbose=0)
    twin_env = SpotEnv()
    twin.train(twin_env, 300, verbose=0)
    twin.train(twin_env, 200, verbose=0)  # one process, no save in between
    np.testing.assert_array_equal(loaded.online.flat_params, twin.online.flat_params)


def test_compact_replay_is_for_uniform_replay():
    with pytest.raises(ValueError, match="compact_observations must be False with prioritized_replay"):
        DQNConfig(compact_observations=True, prioritized_replay=True)


def test_a_checkpoint_whose_compact_replay_holds_an_impossible_action_is_refused(tmp_path):
    import zipfile

    config = DQNConfig(conv_layers=((2, 3),), hidden_sizes=(8,), batch_size=8, buffer_size=100, learning_starts=20,
                       compact_observations=True)
    env = SpotEnv()
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=0)
    agent.train(env, 50, verbose=0)
    agent.buffer.scalars[: agent.buffer.size, 0] = 5  # action 5 of a 2-action agent
    agent.save(tmp_path / "agent.npz")
    with zipfile.ZipFile(tmp_path / "agent.npz") as archive:
        assert any("buffer.observations" in name for name in archive.namelist())
    with pytest.raises(CheckpointError, match="stored actions must be below n_actions = 2"):
        DQNAgent.load(tmp_path / "agent.npz")
