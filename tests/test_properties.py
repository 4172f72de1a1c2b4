"""Property-based tests (hypothesis): the replay buffer against a plain list, gradients over random
layer and batch sizes, and the Discretizer over random bounds and grids."""

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from minidqn.agents.discretizer import Discretizer
from minidqn.memory.deque_replay import ReplayBuffer
from minidqn.memory.ring import RingReplayBuffer
from minidqn.nn.gradcheck import numerical_gradient, relative_error
from minidqn.nn.layers import MLP, Linear

SETTINGS = settings(max_examples=40, deadline=None)
# record_grad_error only keeps a maximum across examples: sharing it between them is harmless.
GRAD_SETTINGS = settings(SETTINGS, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- the replay buffer against a plain-list model ------------------------------------------------
def _transition(i: int, D: int):
    """Transition number i, every field derived from i so that a row tells which one it is."""
    obs = np.arange(D) + 10.0 * i
    return obs, i % 3, 0.5 * i, obs + 0.25, i % 2 == 0


def _row(i: int, D: int) -> list:
    obs, action, reward, next_obs, terminated = _transition(i, D)
    return [*obs, action, reward, *next_obs, float(terminated)]


OPERATIONS = st.lists(st.one_of(st.just(("push",)),
                                st.tuples(st.just("sample"), st.integers(1, 12), st.integers(0, 2**32 - 1))),
                      max_size=60)


@SETTINGS
@given(capacity=st.integers(1, 10), D=st.integers(1, 4), operations=OPERATIONS, ring=st.booleans())
def test_replay_buffer_behaves_like_a_list_that_drops_its_oldest(capacity, D, operations, ring):
    buffer, model, pushed = (RingReplayBuffer if ring else ReplayBuffer)(capacity, dtype=np.float64), [], 0
    for operation in operations:
        if operation[0] == "push":
            buffer.push(*_transition(pushed, D))
            model.append(_row(pushed, D))
            if len(model) > capacity:
                model.pop(0)  # the model's eviction rule: the oldest goes first
            pushed += 1
        else:
            _, batch_size, seed = operation
            if not model:
                with pytest.raises(ValueError, match="empty"):
                    buffer.sample(batch_size, np.random.default_rng(seed))
                continue
            batch = buffer.sample(batch_size, np.random.default_rng(seed))
            obs, actions, rewards, next_obs, terminated, *_ = batch
            assert obs.shape == next_obs.shape == (batch_size, D) and actions.shape == (batch_size,)
            rows = np.column_stack([obs, actions, rewards, next_obs, terminated]).tolist()
            assert all(row in model for row in rows)  # only stored, not-yet-evicted transitions
            again = buffer.sample(batch_size, np.random.default_rng(seed))
            assert all(np.array_equal(a, b) for a, b in zip(batch, again, strict=True))  # the seed fixes the batch
        assert len(buffer) == len(model) <= capacity
        assert buffer.rows().reshape(len(model), 2 * D + 3).tolist() == model


# --- gradients over random shapes ------------------------------------------------------------------
@GRAD_SETTINGS
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4), batch=st.integers(1, 8),
       seed=st.integers(0, 2**32 - 1))
def test_mlp_backward_matches_finite_difference_for_random_sizes(sizes, batch, seed, record_grad_error):
    rng = np.random.default_rng(seed)
    net = MLP(sizes, seed=rng, dtype=np.float64)
    net.flat_params[:] = rng.normal(size=net.num_params)  # nonzero biases too
    x = rng.normal(size=(batch, sizes[0]))  # (B, D_in)
    G = rng.normal(size=(batch, sizes[-1]))  # fixed upstream gradient: L = Σ out ⊙ G
    # Keep every ReLU input off its kink, where finite differences straddle two slopes.
    h = x
    for layer in net.layers:
        h = layer(h)
        if isinstance(layer, Linear) and layer is not net.layers[-1]:
            assume(np.min(np.abs(h)) > 1e-4)
    loss_value = float(np.sum(net.forward(x) * G))
    grad_x = net.backward(G)
    # Central differences lose about ε·|L|/h ≈ 1e-10·|L| to rounding, so a relative error is only
    # meaningful where the gradient is well above that: skip the nearly flat draws (about 6%,
    # mostly all-dead ReLU layers, whose dL/dx is exactly 0).
    assume(np.linalg.norm(grad_x) > 1e-3 * (1.0 + abs(loss_value)))

    def loss():
        return float(np.sum(net(x) * G))

    error_theta = relative_error(net.flat_grads.copy(), numerical_gradient(loss, net.flat_params))
    error_x = relative_error(grad_x, numerical_gradient(loss, x))
    record_grad_error("MLP dL/dθ (random sizes)", error_theta)
    record_grad_error("MLP dL/dx (random sizes)", error_x)
    assert error_theta < 1e-6 and error_x < 1e-6


# --- the Discretizer over random bounds --------------------------------------------------------------
@st.composite
def grids(draw):
    D = draw(st.integers(1, 3))
    low = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=D, max_size=D)))
    width = np.array(draw(st.lists(st.floats(1e-2, 1e3), min_size=D, max_size=D)))
    bins = draw(st.lists(st.integers(1, 7), min_size=D, max_size=D))
    return Discretizer(low, low + width, bins)


@SETTINGS
@given(grid=grids())
def test_discretizer_numbers_bin_centres_one_to_one_and_clips_outside(grid):
    """Every cell's centre maps to its own row (np.ravel_multi_index order), the rows cover
    0 … n_states − 1 exactly once, and points beyond the bounds land in the edge bins."""
    width = (grid.high - grid.low) / grid.bins  # (D,) bin widths
    rows = []
    for cell in itertools.product(*(range(n) for n in grid.bins)):
        centre = grid.low + (np.array(cell) + 0.5) * width  # (D,)
        np.testing.assert_array_equal(grid.bin_indices(centre), cell)
        rows.append(grid(centre))
        assert rows[-1] == np.ravel_multi_index(cell, grid.bins)
    assert sorted(rows) == list(range(grid.n_states))
    far = 1e6 + np.abs(grid.high) + np.abs(grid.low)
    np.testing.assert_array_equal(grid.bin_indices(grid.low - far), 0)
    np.testing.assert_array_equal(grid.bin_indices(grid.high + far), grid.bins - 1)
    assert grid(grid.low) == 0 and grid(grid.high) == grid.n_states - 1


@SETTINGS
@given(grid=grids(), data=st.data())
def test_discretizer_bins_grow_with_the_observation(grid, data):
    D = grid.low.size
    x = np.array(data.draw(st.lists(st.floats(-2e3, 2e3), min_size=D, max_size=D)))
    step = np.array(data.draw(st.lists(st.floats(0, 1e3), min_size=D, max_size=D)))
    before, after = grid.bin_indices(x), grid.bin_indices(x + step)
    assert np.all(before <= after) and np.all((0 <= before) & (before < grid.bins))
    assert 0 <= grid(x) < grid.n_states
