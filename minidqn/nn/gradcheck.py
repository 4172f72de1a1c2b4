"""Check an analytic gradient against central finite differences.

For a scalar function f and an array x, the numerical gradient perturbs one element at a time:

    ∂f/∂xⱼ ≈ (f(x + h·eⱼ) − f(x − h·eⱼ)) / (2h)

whose error is O(h²) from truncation plus O(ε_machine / h) from rounding; in float64 with
h = 1e-6 and functions of order one, truncation is about h² = 1e-12 and rounding about
2.2e-16 / 1e-6 ≈ 2e-10, so rounding dominates. Run checks in float64: in float32 the rounding
term alone is about 1.2e-7 / 1e-6 ≈ 1e-1.

The two gradients are compared with the relative error

    ‖a − n‖ / max(eps, ‖a‖ + ‖n‖)

over the whole array (‖·‖ the Euclidean norm), which is scale-free, 0 for a perfect match, and
near 1 when the two have nothing in common. A correct backward pass in float64 measures well
under 1e-6; a wrong one is usually above 1e-2.

Example:
    >>> import numpy as np
    >>> x = np.array([1.0, -2.0, 3.0])
    >>> relative_error(2 * x, numerical_gradient(lambda: float(np.sum(x**2)), x)) < 1e-8
    True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂f/∂x by central differences, where f() reads x, which is perturbed in place.

    Each element of x is restored to its exact original value afterwards.
    """
    if x.dtype != np.float64:
        raise TypeError(f"x must be float64 for a meaningful check, got {x.dtype}")
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)  # views, so writes reach x and grad
    if not np.shares_memory(flat_x, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    for j in range(flat_x.size):
        original = flat_x[j]
        flat_x[j] = original + h
        f_plus = f()
        flat_x[j] = original - h
        f_minus = f()
        flat_x[j] = original
        flat_grad[j] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, eps: float = 1e-12) -> float:
    """‖a − n‖ / max(eps, ‖a‖ + ‖n‖) over the whole array."""
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    if analytic.shape != numeric.shape:
        raise ValueError(f"shapes differ: analytic {analytic.shape}, numeric {numeric.shape}")
    diff = np.linalg.norm(analytic - numeric)
    return float(diff / max(eps, np.linalg.norm(analytic) + np.linalg.norm(numeric)))
