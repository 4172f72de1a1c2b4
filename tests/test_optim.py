"""The optimizers against steps worked out by hand, a known minimum, and gradient clipping."""

import numpy as np
import pytest

from minidqn.nn.optim import FLUSH_EVERY, SGD, Adam, clip_grad_norm, flush_to_zero


def test_adam_first_two_steps_match_hand_computation():
    theta = np.array([1.0])
    opt = Adam([theta], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    # t = 1, g = 0.5: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25, step = 0.1·0.5/(0.5 + 1e-8)
    opt.step([np.array([0.5])])
    assert theta[0] == pytest.approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8), abs=1e-15)
    # t = 2, g = −1: m = 0.045 − 0.1 = −0.055, v = 0.00024975 + 0.001 = 0.00124975
    # m̂ = −0.055/0.19, v̂ = 0.00124975/0.001999
    opt.step([np.array([-1.0])])
    step2 = 0.1 * (-0.055 / 0.19) / (np.sqrt(0.00124975 / 0.001999) + 1e-8)
    assert theta[0] == pytest.approx(1.0 - 0.1 * 0.5 / (0.5 + 1e-8) - step2, abs=1e-12)
    assert theta[0] == pytest.approx(0.936610, abs=1e-6)


def test_adam_finds_the_minimum_of_a_quadratic(rng):
    """f(θ) = ½(θ − c)ᵀH(θ − c) with H positive definite has its minimum at θ = c."""
    c = rng.normal(size=5)
    M = rng.normal(size=(5, 5))
    H = M @ M.T + np.eye(5)
    theta = np.zeros(5)
    opt = Adam([theta], lr=0.05)
    for _ in range(3000):
        opt.step([H @ (theta - c)])
    np.testing.assert_allclose(theta, c, atol=1e-4)


def test_sgd_plain_and_momentum_steps_by_hand():
    theta = np.array([2.0, -1.0])
    SGD([theta], lr=0.5).step([np.array([1.0, -2.0])])
    np.testing.assert_allclose(theta, [1.5, 0.0])

    theta = np.array([0.0])
    opt = SGD([theta], lr=1.0, momentum=0.9)
    opt.step([np.array([1.0])])  # v = 1, θ = −1
    opt.step([np.array([1.0])])  # v = 0.9 + 1 = 1.9, θ = −2.9
    assert theta[0] == pytest.approx(-2.9)


def test_sgd_finds_the_minimum_of_a_quadratic():
    theta = np.array([5.0, -3.0])
    opt = SGD([theta], lr=0.1, momentum=0.5)
    for _ in range(300):
        opt.step([2 * (theta - np.array([1.0, 2.0]))])
    np.testing.assert_allclose(theta, [1.0, 2.0], atol=1e-8)


def test_clip_grad_norm_rescales_to_the_global_norm():
    grads = [np.array([3.0, 0.0]), np.array([[4.0]])]  # global norm 5
    norm = clip_grad_norm(grads, max_norm=1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(grads[0], [0.6, 0.0])
    np.testing.assert_allclose(grads[1], [[0.8]])
    small = [np.array([0.3, 0.4])]
    assert clip_grad_norm(small, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(small[0], [0.3, 0.4])  # below the limit: untouched


def test_optimizer_clipping_limits_the_step():
    theta = np.array([0.0, 0.0])
    SGD([theta], lr=1.0, max_grad_norm=1.0).step([np.array([30.0, 40.0])])
    np.testing.assert_allclose(theta, [-0.6, -0.8])


def test_optimizers_update_in_place_and_keep_views_valid():
    flat = np.zeros(6)
    views = [flat[:4].reshape(2, 2), flat[4:]]
    Adam(views, lr=0.1).step([np.ones((2, 2)), np.ones(2)])
    assert np.all(flat < 0)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: Adam(p, lr=0.0), "lr"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), "betas"),
        (lambda p: Adam(p, eps=0.0), "eps"),
        (lambda p: SGD(p, lr=0.1, momentum=1.0), "momentum"),
        (lambda p: SGD(p, lr=0.1, max_grad_norm=-1.0), "max_grad_norm"),
    ],
)
def test_optimizers_reject_bad_hyperparameters(make, match):
    with pytest.raises(ValueError, match=match):
        make([np.zeros(2)])


def test_step_rejects_grads_that_do_not_match_params():
    opt = Adam([np.zeros(3)])
    with pytest.raises(ValueError, match="grads must match"):
        opt.step([np.zeros(4)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_with_scratch_buffers_equals_the_equations_with_temporaries_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    theta = rng.normal(size=3000).astype(dtype)
    expected, m, v = theta.copy(), np.zeros_like(theta), np.zeros_like(theta)
    adam = Adam([theta], lr=1e-3)
    for t in range(1, 30):
        g = rng.normal(size=3000).astype(dtype)
        adam.step([g.copy()])
        m = 0.9 * m + (1.0 - 0.9) * g
        v = 0.999 * v + (1.0 - 0.999) * g * g
        expected -= 1e-3 * (m / (1.0 - 0.9**t)) / (np.sqrt(v / (1.0 - 0.999**t)) + 1e-8)
    np.testing.assert_array_equal(theta, expected)
    assert theta.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flush_to_zero_zeroes_subnormal_numbers_only(dtype):
    tiny = np.finfo(dtype).tiny
    a = np.array([0.0, tiny / 2, -tiny / 4, tiny, -tiny, -1.0, 3.5, tiny * 0.999], dtype)
    flush_to_zero(a, np.empty_like(a))
    np.testing.assert_array_equal(a, np.array([0.0, 0.0, 0.0, tiny, -tiny, -1.0, 3.5, 0.0], dtype))


def longest_subnormal_stretch(arrays_after_each_step) -> int:
    """The most consecutive steps after which some entry of the array was subnormal."""
    longest = run = 0
    for a in arrays_after_each_step:
        subnormal = np.any((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny))
        run = run + 1 if subnormal else 0
        longest = max(longest, run)
    return longest


def test_adam_moments_of_a_gradient_gone_to_zero_are_subnormal_for_at_most_flush_every_steps():
    # m falls by β₁ = 0.9 a step once g is 0: from 0.1 it passes float32's smallest normal
    # number (1.2e-38) near step 820 and would stay subnormal until about step 960.
    theta = np.ones(4, np.float32)
    adam = Adam([theta], lr=1e-3)
    adam.step([np.full(4, 1.0, np.float32)])
    after = []
    for _ in range(1000):
        adam.step([np.zeros(4, np.float32)])
        after.append(adam.m[0].copy())
    assert 1 <= longest_subnormal_stretch(after) < FLUSH_EVERY  # it was subnormal, briefly
    assert np.all(adam.m[0] == 0) and np.all(adam.v[0] > 0)
    assert np.all(np.isfinite(theta)) and np.all(theta < 1.0)


def test_sgd_momentum_of_a_gradient_gone_to_zero_is_subnormal_for_at_most_flush_every_steps():
    theta = np.ones(3, np.float32)
    sgd = SGD([theta], lr=1e-3, momentum=0.9)
    sgd.step([np.full(3, 0.1, np.float32)])
    after = []
    for _ in range(1000):  # v = 0.1·0.9ᵗ would be subnormal from step 820 or so
        sgd.step([np.zeros(3, np.float32)])
        after.append(sgd.velocity[0].copy())
    assert 1 <= longest_subnormal_stretch(after) < FLUSH_EVERY
    assert np.all(sgd.velocity[0] == 0) and np.all(theta < 1.0)
