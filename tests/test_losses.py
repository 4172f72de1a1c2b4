"""The TD losses and their gradients with respect to the Q-value matrix."""

import numpy as np
import pytest

from minidqn.nn.gradcheck import numerical_gradient, relative_error
from minidqn.nn.losses import huber_loss, mse_loss

TOL = 1e-6


def _batch(rng, B, A, scale):
    q = rng.normal(size=(B, A)) * scale
    actions = rng.integers(0, A, size=B)
    targets = rng.normal(size=B) * scale
    return q, actions, targets


@pytest.mark.parametrize("B,A", [(1, 2), (5, 3), (32, 4)])
@pytest.mark.parametrize("use_weights", [False, True])
def test_mse_gradient_matches_finite_difference(B, A, use_weights, rng, record_grad_error):
    q, actions, targets = _batch(rng, B, A, 1.0)
    weights = rng.uniform(0.1, 1.0, size=B) if use_weights else None
    _, grad_q = mse_loss(q, actions, targets, weights=weights)
    numeric = numerical_gradient(lambda: mse_loss(q, actions, targets, weights=weights)[0], q)
    error = relative_error(grad_q, numeric)
    record_grad_error("mse_loss dL/dq", error)
    assert error < TOL


@pytest.mark.parametrize("scale", [0.1, 10.0])  # all errors inside delta, then nearly all beyond it
@pytest.mark.parametrize("use_weights", [False, True])
@pytest.mark.parametrize("B,A", [(1, 2), (16, 3)])
def test_huber_gradient_matches_finite_difference_on_both_sides_of_delta(
    scale, use_weights, B, A, rng, record_grad_error
):
    q, actions, targets = _batch(rng, B, A, scale)
    delta = 1.0
    td = q[np.arange(B), actions] - targets
    q[np.arange(B), actions] += np.where(np.abs(np.abs(td) - delta) < 1e-3, 0.01, 0.0)  # off the seam
    weights = rng.uniform(0.1, 1.0, size=B) if use_weights else None
    _, grad_q = huber_loss(q, actions, targets, delta=delta, weights=weights)
    numeric = numerical_gradient(lambda: huber_loss(q, actions, targets, delta, weights)[0], q)
    error = relative_error(grad_q, numeric)
    record_grad_error("huber_loss dL/dq", error)
    assert error < TOL


def test_huber_values_by_hand():
    q = np.array([[0.0, 0.5], [3.0, 0.0]])
    actions = np.array([1, 0])
    targets = np.array([0.0, 0.0])  # errors 0.5 (quadratic side) and 3.0 (linear side)
    loss, grad_q = huber_loss(q, actions, targets, delta=1.0)
    assert loss == pytest.approx((0.5 * 0.25 + (3.0 - 0.5)) / 2)
    np.testing.assert_allclose(grad_q, [[0.0, 0.25], [0.5, 0.0]])


def test_mse_values_by_hand_divide_by_batch():
    q = np.array([[1.0, 2.0], [0.0, -1.0]])
    loss, grad_q = mse_loss(q, np.array([0, 1]), np.array([0.0, 1.0]), weights=np.array([1.0, 0.5]))
    assert loss == pytest.approx((1.0 + 0.5 * 4.0) / 2)
    np.testing.assert_allclose(grad_q, [[1.0, 0.0], [0.0, -1.0]])


@pytest.mark.parametrize("loss_fn", [mse_loss, huber_loss])
def test_only_the_taken_action_receives_gradient(loss_fn, rng):
    q, actions, targets = _batch(rng, 8, 4, 2.0)
    _, grad_q = loss_fn(q, actions, targets)
    mask = np.zeros_like(q, dtype=bool)
    mask[np.arange(8), actions] = True
    assert np.all(grad_q[~mask] == 0)
    assert np.all(grad_q[mask] != 0)


@pytest.mark.parametrize("loss_fn", [mse_loss, huber_loss])
def test_losses_reject_mismatched_shapes(loss_fn):
    q = np.zeros((4, 2))
    with pytest.raises(ValueError, match="actions"):
        loss_fn(q, np.zeros(3, int), np.zeros(4))
    with pytest.raises(ValueError, match="actions"):
        loss_fn(q, np.zeros(4), np.zeros(4))  # float actions
    with pytest.raises(ValueError, match="targets"):
        loss_fn(q, np.zeros(4, int), np.zeros((4, 1)))
    with pytest.raises(ValueError, match="weights"):
        loss_fn(q, np.zeros(4, int), np.zeros(4), weights=np.ones(3))


def test_huber_rejects_non_positive_delta():
    with pytest.raises(ValueError, match="delta"):
        huber_loss(np.zeros((1, 2)), np.zeros(1, int), np.zeros(1), delta=0.0)
