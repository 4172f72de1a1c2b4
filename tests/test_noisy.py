"""The noisy linear layer: its gradients for μ and σ against finite differences with the noise
held fixed, its factorised noise, its initialisation and its mean mode."""

from __future__ import annotations

import numpy as np
import pytest

from minidqn.nn.gradcheck import numerical_gradient, relative_error
from minidqn.nn.noisy import NoisyLinear, scaled_noise


def make_layer(D_in: int = 4, D_out: int = 3, seed: int = 0, dtype=np.float64) -> NoisyLinear:
    rng = np.random.default_rng(seed)
    arrays = [np.zeros((D_in, D_out), dtype), np.zeros((D_in, D_out), dtype), np.zeros(D_out, dtype),
              np.zeros(D_out, dtype)]
    NoisyLinear.initialise(*arrays, rng)
    layer = NoisyLinear(*arrays)
    layer.sample_noise(rng)
    return layer


def test_every_gradient_matches_finite_differences_with_the_noise_held():
    layer = make_layer()
    rng = np.random.default_rng(1)
    x, upstream = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))  # L = Σ y ⊙ upstream

    def loss() -> float:
        return float((layer.forward(x) * upstream).sum())

    loss()
    grad_x = layer.backward(upstream)
    analytic = [g.copy() for g in layer.grads]
    for param, grad in zip((layer.mu_W, layer.sigma_W, layer.mu_b, layer.sigma_b), analytic):
        assert relative_error(grad, numerical_gradient(loss, param)) < 1e-6
    assert relative_error(grad_x, numerical_gradient(loss, x)) < 1e-6
    assert np.abs(analytic[1]).sum() > 0 and np.abs(analytic[3]).sum() > 0  # σ learns: its gradient is not zero


def test_forward_and_call_agree_and_the_mean_mode_is_the_mean_weights():
    layer = make_layer()
    x = np.random.default_rng(2).normal(size=(6, 4))
    assert np.allclose(layer.forward(x), layer(x))
    assert not np.allclose(layer(x), x @ layer.mu_W + layer.mu_b)  # noisy
    layer.mean()
    assert np.array_equal(layer(x), x @ layer.mu_W + layer.mu_b)


def test_the_noise_is_factorised_and_fresh_each_time():
    layer = make_layer(D_in=5, D_out=4)
    first = layer.epsilon_W.copy()
    assert np.linalg.matrix_rank(first) == 1  # f(ε_in) ⊗ f(ε_out)
    assert np.allclose(first[0] / first[0, 0], layer.epsilon_b / layer.epsilon_b[0])  # each row ∝ ε_b = f(ε_out)
    layer.sample_noise(np.random.default_rng(9))
    assert not np.allclose(layer.epsilon_W, first)


def test_scaled_noise_has_the_moments_of_sign_times_root():
    """f(ε) = sign(ε)·√|ε|: mean 0 and E[f(ε)²] = E|ε| = √(2/π) for ε ~ N(0, 1)."""
    f = scaled_noise(np.random.default_rng(3), 200_000, np.float64)
    assert abs(f.mean()) < 0.01 and (f**2).mean() == pytest.approx(np.sqrt(2 / np.pi), rel=0.01)


def test_initialisation_follows_the_paper():
    layer = make_layer(D_in=16, D_out=8)
    bound = 1 / np.sqrt(16)
    assert np.abs(layer.mu_W).max() <= bound and np.abs(layer.mu_W).max() > 0.8 * bound
    assert np.all(layer.sigma_W == 0.5 * bound) and np.all(layer.sigma_b == 0.5 * bound)


def test_mismatched_shapes_are_named():
    with pytest.raises(ValueError, match="σ_W"):
        NoisyLinear(np.zeros((3, 2)), np.zeros((2, 3)), np.zeros(2), np.zeros(2))
