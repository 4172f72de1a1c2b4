"""The distributional parts checked: C51's projection against Algorithm 1 written as a loop, and
every gradient against central finite differences in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minidqn.distributional import (
    QuantileHuberLoss,
    categorical_loss,
    categorical_projection,
    categorical_support,
    quantile_huber_loss,
    quantile_midpoints,
    quantile_targets,
)
from minidqn.nn.gradcheck import numerical_gradient, relative_error


def projection_by_loop(support, next_probs, rewards, discounts):
    """Bellemare et al. (2017), Algorithm 1, one atom at a time: b = (T zⱼ − v_min)/Δz, its mass
    split between ⌊b⌋ and ⌈b⌉, all of it to ⌊b⌋ when b falls on an atom."""
    B, N = next_probs.shape
    v_min, v_max = support[0], support[-1]
    delta_z = (v_max - v_min) / (N - 1)
    m = np.zeros((B, N))
    for b in range(B):
        for j in range(N):
            moved = min(max(rewards[b] + discounts[b] * support[j], v_min), v_max)
            position = (moved - v_min) / delta_z
            lower, upper = math.floor(position), math.ceil(position)
            if lower == upper:
                m[b, lower] += next_probs[b, j]
            else:
                m[b, lower] += next_probs[b, j] * (upper - position)
                m[b, upper] += next_probs[b, j] * (position - lower)
    return m


def random_probs(rng, shape):
    logits = rng.normal(size=shape)
    return np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)


def test_the_projection_is_algorithm_1():
    """A batch mixing terminals (d = 0), 3-step discounts, transitions cut off by a time limit
    (they bootstrap: d = γⁿ like any other), rewards that push atoms past both ends, and moved
    atoms that land exactly on the support."""
    rng = np.random.default_rng(0)
    support = categorical_support(-10.0, 10.0, 51)
    B = 12
    next_probs = random_probs(rng, (B, 51))
    rewards = np.array([0.0, 1.0, -3.3, 25.0, -25.0, 0.4, 2.0, 0.0, 7.7, -0.2, 0.4, 1.0])
    discounts = np.array([0.0, 0.99**3, 0.99**3, 0.99, 0.99, 0.0, 1.0, 1.0, 0.5, 0.99**3, 0.99, 0.0])
    m = categorical_projection(support, next_probs, rewards, discounts)
    assert np.abs(m - projection_by_loop(support, next_probs, rewards, discounts)).max() < 1e-12
    assert np.allclose(m.sum(axis=1), 1.0, atol=1e-12)
    assert m[0].argmax() == 25 and m[0, 25] == pytest.approx(1.0)  # terminal, r = 0: all mass on the atom 0
    assert m[3, -1] == pytest.approx(1.0) and m[4, 0] == pytest.approx(1.0)  # clipped at v_max, v_min
    assert np.allclose(m[7], next_probs[7])  # r = 0, d = 1: every atom stays where it is


@pytest.mark.parametrize("seed", range(3))
def test_the_projection_agrees_with_the_loop_on_random_batches(seed):
    rng = np.random.default_rng(seed)
    N = int(rng.integers(2, 60))
    support = categorical_support(*sorted(rng.uniform(-50, 50, 2)), N)
    next_probs = random_probs(rng, (16, N))
    rewards = rng.uniform(-20, 20, 16)
    discounts = rng.choice([0.0, 0.9, 0.99**3, 1.0], 16)
    m = categorical_projection(support, next_probs, rewards, discounts)
    assert np.abs(m - projection_by_loop(support, next_probs, rewards, discounts)).max() < 1e-12


@pytest.mark.parametrize("weighted", [False, True])
def test_the_cross_entropy_gradient_matches_finite_differences(weighted):
    rng = np.random.default_rng(1)
    B, A, N = 5, 3, 7
    logits = rng.normal(size=(B, A, N))
    actions = rng.integers(0, A, B)
    target = random_probs(rng, (B, N))
    weights = rng.uniform(0.2, 1.0, B) if weighted else None
    loss, grad, per_sample = categorical_loss(logits, actions, target, weights)
    numeric = numerical_gradient(lambda: categorical_loss(logits, actions, target, weights)[0], logits)
    assert relative_error(grad, numeric) < 1e-6
    not_taken = np.ones((B, A), bool)
    not_taken[np.arange(B), actions] = False
    assert np.all(grad[not_taken] == 0)
    assert loss == pytest.approx(np.mean((weights if weighted else 1.0) * per_sample))


def test_the_cross_entropy_is_smallest_at_the_target():
    """Gradient descent on one action's logits ends with its softmax equal to the target."""
    rng = np.random.default_rng(2)
    logits, target = rng.normal(size=(1, 2, 6)), random_probs(rng, (1, 6))
    for _ in range(3000):
        _, grad, _ = categorical_loss(logits, np.array([1]), target)
        logits -= 1.0 * grad
    assert np.abs(np.exp(logits[0, 1]) / np.exp(logits[0, 1]).sum() - target[0]).max() < 1e-4


def test_the_log_softmax_does_not_overflow():
    loss, grad, _ = categorical_loss(np.array([[[1000.0, 0.0]]]), np.array([0]), np.array([[0.0, 1.0]]))
    assert loss == pytest.approx(1000.0) and np.isfinite(grad).all()


@pytest.mark.parametrize("kappa, weighted", [(1.0, False), (0.3, True), (5.0, True)])
def test_the_quantile_huber_gradient_matches_finite_differences(kappa, weighted):
    """Errors on both sides of ±κ and of 0 (N′ ≠ N: the targets may number otherwise)."""
    rng = np.random.default_rng(3)
    B, A, N = 4, 3, 8
    quantiles = rng.normal(0, 2, size=(B, A, N))
    actions = rng.integers(0, A, B)
    targets = quantile_targets(rng.normal(0, 2, size=(B, 6)), rng.normal(size=B), np.array([0.99, 0.0, 0.97, 1.0]))
    weights = rng.uniform(0.2, 1.0, B) if weighted else None
    loss, grad, per_sample = quantile_huber_loss(quantiles, actions, targets, kappa, weights)
    numeric = numerical_gradient(lambda: quantile_huber_loss(quantiles, actions, targets, kappa, weights)[0],
                                 quantiles)
    assert relative_error(grad, numeric) < 1e-6
    assert loss == pytest.approx(np.mean((weights if weighted else 1.0) * per_sample))


def test_the_loss_that_keeps_its_arrays_gives_the_plain_functions_numbers_to_the_last_bit():
    """The agent's QuantileHuberLoss against quantile_huber_loss: in float32 and float64, with
    and without weights, errors on both sides of ±κ, and a batch of another shape in between
    (its arrays made again), each call with one object that keeps them."""
    rng = np.random.default_rng(7)
    kept = QuantileHuberLoss()
    for dtype, (B, A, N, targets_n), weighted, kappa in [
            (np.float32, (64, 4, 51, 51), False, 1.0), (np.float32, (64, 4, 51, 51), True, 1.0),
            (np.float64, (5, 3, 8, 6), True, 0.5), (np.float32, (64, 4, 51, 51), True, 2.0)]:
        quantiles = rng.normal(0, 3, size=(B, A, N)).astype(dtype)
        actions = rng.integers(0, A, B)
        targets = rng.normal(0, 3, size=(B, targets_n)).astype(dtype)
        weights = rng.uniform(0.2, 1.0, B) if weighted else None
        plain = quantile_huber_loss(quantiles, actions, targets, kappa, weights)
        loss, grad, per_sample = kept(quantiles, actions, targets, kappa, weights)
        assert loss == plain[0] and grad.dtype == plain[1].dtype == dtype
        assert np.array_equal(grad, plain[1]) and np.array_equal(per_sample, plain[2])
    with pytest.raises(ValueError, match="kappa"):
        kept(np.zeros((2, 2, 3)), np.zeros(2, int), np.zeros((2, 3)), kappa=0.0)


def test_quantile_regression_finds_the_quantiles_of_its_targets():
    """Descent on θ against a fixed sample of targets ends with θᵢ at the τ̂ᵢ-quantiles of the sample
    (κ small, so the Huber loss is nearly the pure quantile loss)."""
    rng = np.random.default_rng(4)
    N, samples = 5, np.sort(rng.exponential(3.0, 400))
    quantiles = np.zeros((1, 1, N))
    for step in range(20_000):
        _, grad, _ = quantile_huber_loss(quantiles, np.array([0]), samples[None], kappa=0.01)
        quantiles -= 2.0 * grad
    expected = np.quantile(samples, quantile_midpoints(N))
    assert np.abs(quantiles[0, 0] - expected).max() < 0.1


@pytest.mark.parametrize("v_min, v_max, num_atoms", [(1.0, 1.0, 5), (0.0, 1.0, 1), (0.0, 1.0, 2.5)])
def test_a_bad_support_is_named(v_min, v_max, num_atoms):
    with pytest.raises(ValueError, match="v_min|num_atoms"):
        categorical_support(v_min, v_max, num_atoms)


def test_shapes_that_do_not_fit_are_named():
    support = categorical_support(-1.0, 1.0, 3)
    with pytest.raises(ValueError, match="rewards"):
        categorical_projection(support, np.full((2, 3), 1 / 3), np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="target_probs"):
        categorical_loss(np.zeros((2, 2, 3)), np.zeros(2, int), np.full((2, 4), 0.25))
    with pytest.raises(ValueError, match="kappa"):
        quantile_huber_loss(np.zeros((2, 2, 3)), np.zeros(2, int), np.zeros((2, 3)), kappa=0.0)
