"""The finite-difference checker itself: it must pass correct gradients and catch wrong ones."""


import numpy as np
import pytest

from minidqn.nn.gradcheck import numerical_gradient, relative_error


def test_numerical_gradient_of_a_known_function_and_x_restored(rng):
    x = rng.normal(size=(3, 4))
    original = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(np.sin(x))), x)
    assert relative_error(np.cos(x), grad) < 1e-8
    np.testing.assert_array_equal(x, original)


def test_relative_error_flags_a_wrong_gradient(rng):
    x = rng.normal(size=5)
    numeric = numerical_gradient(lambda: float(np.sum(x**3)), x)
    assert relative_error(3 * x**2, numeric) < 1e-8
    assert relative_error(2 * x**2, numeric) > 1e-2  # a wrong derivative is caught
    assert relative_error(np.zeros(5), np.zeros(5)) == 0.0


def test_gradcheck_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda: 0.0, np.zeros(3, np.float32))

