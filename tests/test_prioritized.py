"""Prioritized replay: the sum tree against a plain array, the sampling distribution against
P(i) = pᵢ^α / Σ pₖ^α, and the importance weights against their formula."""

import gymnasium as gym
import numpy as np
import pytest
from envs import OneStateEnv
from hypothesis import given, settings
from hypothesis import strategies as st

from minidqn import DQNAgent, DQNConfig
from minidqn.memory.deque_replay import ReplayBuffer
from minidqn.memory.prioritized import PrioritizedReplayBuffer
from minidqn.memory.sum_tree import SumTree


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 40), seed=st.integers(0, 2**32 - 1), rounds=st.integers(1, 6))
def test_the_sum_tree_agrees_with_a_plain_array_under_random_updates(size, seed, rounds):
    rng, tree, model = np.random.default_rng(seed), SumTree(size), np.zeros(size)
    for _ in range(rounds):
        indices = rng.integers(0, size, rng.integers(1, 2 * size + 1))  # repeats included
        values = rng.choice([0.0, 0.5, 1.0, 3.0, 1e-6], size=len(indices)) * rng.random(len(indices))
        tree.set(indices, values)
        for k, v in zip(indices, values):  # the model: the last write wins
            model[k] = v
        assert tree.total == pytest.approx(model.sum(), rel=1e-12, abs=1e-15)
        internal = np.arange(1, tree.leaves)
        np.testing.assert_allclose(tree.tree[internal], tree.tree[2 * internal] + tree.tree[2 * internal + 1])
        if model.sum() > 0:
            u = rng.random(50) * model.sum()
            found = tree.find(u)
            cumulative = np.cumsum(model)
            expected = np.minimum(np.searchsorted(cumulative, u, side="right"), size - 1)
            assert np.all(model[found] > 0)  # an empty leaf is never drawn
            # away from the boundaries between leaves, the search is the prefix-sum search
            clear = np.min(np.abs(u[:, None] - cumulative[None, :]), axis=1) > 1e-9 * model.sum()
            np.testing.assert_array_equal(found[clear], expected[clear])


def test_the_sum_tree_refuses_bad_leaves_and_values():
    tree = SumTree(3)
    with pytest.raises(IndexError, match="0 … 2"):
        tree.set([3], [1.0])
    with pytest.raises(ValueError, match="finite and ≥ 0"):
        tree.set([0], [-1.0])
    with pytest.raises(ValueError, match="finite and ≥ 0"):
        tree.set([0], [np.nan])


def _filled(priorities, alpha=0.6, capacity=None):
    buffer = PrioritizedReplayBuffer(capacity or len(priorities), alpha=alpha, dtype=np.float64)
    for i in range(len(priorities)):
        obs = np.full(2, float(i))
        buffer.push(obs, i % 3, float(i), obs, False)
    positions = buffer.positions(np.arange(len(buffer)))
    buffer.update_priorities(positions, np.asarray(priorities)[-len(buffer):] - buffer.eps)  # p = |δ| + eps
    return buffer


def test_sampling_frequencies_follow_p_to_the_alpha():
    """200,000 draws, seed 0: each frequency within 4 standard errors of P(i) = pᵢ^α / Σ pₖ^α."""
    p, alpha, draws = np.array([1.0, 2.0, 3.0, 4.0, 10.0]), 0.6, 200_000
    buffer = _filled(p, alpha)
    rng, counts = np.random.default_rng(0), np.zeros(len(p))
    for _ in range(draws // 1000):
        obs = buffer.sample(1000, rng, beta=0.4).obs
        counts += np.bincount(obs[:, 0].astype(int), minlength=len(p))
    expected = p**alpha / np.sum(p**alpha)
    standard_error = np.sqrt(expected * (1 - expected) / draws)
    assert np.all(np.abs(counts / draws - expected) < 4 * standard_error), (counts / draws, expected)


def test_importance_weights_match_the_formula_on_a_hand_made_case():
    """p = (1, 3), α = 1, β = 0.5: P = (1/4, 3/4), N = 2, w = (N·P)^(−β) = (√2, √(2/3)), over max."""
    buffer = _filled([1.0, 3.0], alpha=1.0)
    obs, *_, weights = buffer.sample(400, np.random.default_rng(1), beta=0.5)
    expected = {0: np.sqrt(2.0) / np.sqrt(2.0), 1: np.sqrt(2.0 / 3.0) / np.sqrt(2.0)}  # each batch has both
    assert set(obs[:, 0].astype(int)) == {0, 1}
    for transition, weight in zip(obs[:, 0].astype(int), weights):
        assert weight == pytest.approx(expected[transition], rel=1e-12)


def test_a_new_transition_gets_the_largest_priority_so_far():
    buffer = _filled([1.0, 5.0, 2.0], capacity=4)
    obs = np.full(2, 9.0)
    buffer.push(obs, 0, 0.0, obs, False)
    assert buffer.priorities[buffer.positions(3)] == pytest.approx(5.0)
    assert buffer.max_priority == pytest.approx(5.0)


def test_with_alpha_zero_and_beta_one_it_is_uniform_replay_with_unit_weights():
    buffer = _filled([1.0, 100.0, 7.0], alpha=0.0)
    obs, *_, weights = buffer.sample(30_000, np.random.default_rng(2), beta=1.0)
    np.testing.assert_allclose(np.bincount(obs[:, 0].astype(int)) / 30_000, 1 / 3, atol=0.01)
    np.testing.assert_array_equal(weights, 1.0)


@pytest.mark.parametrize("pushes", [3, 6])  # not yet full, and full after wrapping around
def test_it_holds_the_same_rows_as_the_deque_and_saves_its_priorities_exactly(pushes):
    buffer = _filled([1.0, 2.0, 3.0, 4.0, 5.0, 6.0][:pushes], capacity=4)
    deque_buffer = ReplayBuffer(4, dtype=np.float64)
    for i in range(pushes):
        obs = np.full(2, float(i))
        deque_buffer.push(obs, i % 3, float(i), obs, False)
    np.testing.assert_array_equal(buffer.rows(), deque_buffer.rows())
    again = PrioritizedReplayBuffer(4, alpha=0.6, dtype=np.float64)
    again.load_state(*buffer.state())
    np.testing.assert_array_equal(again.tree.tree, buffer.tree.tree)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    for a, b in zip(again.sample(16, rng_a, 0.5), buffer.sample(16, rng_b, 0.5), strict=True):
        np.testing.assert_array_equal(a, b)


def test_it_refuses_bad_arguments():
    with pytest.raises(ValueError, match="alpha"):
        PrioritizedReplayBuffer(4, alpha=1.5)
    buffer = _filled([1.0, 2.0])
    with pytest.raises(ValueError, match="beta"):
        buffer.sample(2, np.random.default_rng(0), beta=2.0)
    with pytest.raises(ValueError, match="empty"):
        PrioritizedReplayBuffer(4).sample(2, np.random.default_rng(0))


# --- in the agent --------------------------------------------------------------------------------
def test_the_agent_with_prioritized_replay_learns_the_right_value_and_updates_priorities():
    """OneStateEnv terminating every step: Q = 1. The weights keep the fixed point where it is."""
    env = OneStateEnv(truncate=False)
    config = DQNConfig(prioritized_replay=True, priority_beta_steps=500, n_step=1, learning_starts=50, batch_size=16,
                       hidden_sizes=(8,), exploration="constant", epsilon_end=0.5)
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=0)
    agent.train(env, 800, verbose=0)
    np.testing.assert_allclose(agent.q_values(np.array([0.5])), [1.0, 1.0], atol=0.05)
    p = agent.buffer.priorities[: len(agent.buffer)]
    assert len(np.unique(p)) > 10 and p.min() < 0.05  # learned transitions fell to small |δ|


def test_the_agent_with_prioritized_replay_resumes_exactly(tmp_path):
    config = DQNConfig(prioritized_replay=True, hidden_sizes=(8,), buffer_size=200, learning_starts=50, batch_size=16)
    env = gym.make("CartPole-v1")
    agent = DQNAgent(env.observation_space, env.action_space, config, seed=1)
    agent.train(env, 400, verbose=0)  # the 200-row ring has wrapped around
    agent.save(tmp_path / "per.npz")
    resumed = DQNAgent.load(tmp_path / "per.npz")
    np.testing.assert_array_equal(resumed.buffer.tree.tree, agent.buffer.tree.tree)
    for a in (agent, resumed):
        a.train(gym.make("CartPole-v1"), 300, verbose=0)
    np.testing.assert_array_equal(resumed.online.flat_params, agent.online.flat_params)
    np.testing.assert_array_equal(resumed.buffer.priorities, agent.buffer.priorities)


@pytest.mark.parametrize("positions, td_errors", [([0, 1], [1.0, np.nan]), ([0, 1], [np.inf, 1.0]), ([0, 9], [1.0, 1.0]),
                                                  ([0, 1], [1.0])])
def test_a_refused_priority_update_changes_nothing(positions, td_errors):
    buffer = _filled([1.0, 2.0, 3.0])
    priorities, tree, top = buffer.priorities.copy(), buffer.tree.tree.copy(), buffer.max_priority
    with pytest.raises(ValueError):
        buffer.update_priorities(np.array(positions), np.array(td_errors))
    np.testing.assert_array_equal(buffer.priorities, priorities)
    np.testing.assert_array_equal(buffer.tree.tree, tree)
    assert buffer.max_priority == top


@pytest.mark.parametrize("alpha, eps", [(np.nan, 1e-6), ("0.5", 1e-6), (0.5, np.inf), (0.5, np.nan)])
def test_prioritized_parameters_are_range_checked(alpha, eps):
    with pytest.raises(ValueError, match="alpha|eps"):
        PrioritizedReplayBuffer(4, alpha=alpha, eps=eps)
