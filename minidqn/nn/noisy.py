"""A noisy linear layer: exploration learnt as weights, with factorised Gaussian noise (Fortunato et al., 2018).

Where ε-greedy explores by acting at random with a probability set by a schedule, a noisy
network perturbs its own weights, and learns how much: every weight and bias has a mean μ and a
noise scale σ, both trained by gradient descent, and the layer computes

    y = x·W + b,   W = μ_W + σ_W ⊙ ε_W,   b = μ_b + σ_b ⊙ ε_b

with fresh noise ε for each step the agent acts and each batch it learns from. Where the
returns say that exploring pays, σ stays large; where it does not, the loss drives σ down and
exploration fades by itself, state by state.

Factorised noise draws D_in + D_out standard normals instead of D_in·D_out: with
f(ε) = sign(ε)·√|ε|,

    ε_W = f(ε_in) ⊗ f(ε_out)   (D_in, D_out),    ε_b = f(ε_out)   (D_out,)

Initialisation (the paper's, for factorised noise): μ ~ U[−1/√D_in, 1/√D_in] and
σ = σ₀/√D_in, σ₀ = 0.5. `mean()` switches the noise off (ε = 0), for greedy evaluation on the
mean weights; `sample_noise` switches it back on.
"""

from __future__ import annotations

import numpy as np


def scaled_noise(rng: np.random.Generator, size: int, dtype) -> np.ndarray:
    """f(ε) = sign(ε)·√|ε| of `size` standard normals: (size,)."""
    epsilon = rng.standard_normal(size)
    return (np.sign(epsilon) * np.sqrt(np.abs(epsilon))).astype(dtype)


class NoisyLinear:
    """y = x·(μ_W + σ_W ⊙ ε_W) + μ_b + σ_b ⊙ ε_b, with μ_W, σ_W: (D_in, D_out) and μ_b, σ_b: (D_out,).

    The four parameter arrays, and their four gradients, are given as arrays (views into a
    network's flat θ and dL/dθ, as Linear's W and b are); `initialise` fills them."""

    def __init__(self, mu_W: np.ndarray, sigma_W: np.ndarray, mu_b: np.ndarray, sigma_b: np.ndarray,
                 grads: list[np.ndarray] | None = None):
        D_in, D_out = mu_W.shape
        if sigma_W.shape != (D_in, D_out) or mu_b.shape != (D_out,) or sigma_b.shape != (D_out,):
            raise ValueError(f"expected μ_W, σ_W ({D_in}, {D_out}) and μ_b, σ_b ({D_out},); got {mu_W.shape}, "
                             f"{sigma_W.shape}, {mu_b.shape}, {sigma_b.shape}")
        self.mu_W, self.sigma_W, self.mu_b, self.sigma_b = mu_W, sigma_W, mu_b, sigma_b
        # NOTE: gradients are overwritten (not accumulated) by every backward call.
        self.grads = grads if grads is not None else [np.zeros_like(p) for p in (mu_W, sigma_W, mu_b, sigma_b)]
        self.grad_mu_W, self.grad_sigma_W, self.grad_mu_b, self.grad_sigma_b = self.grads
        self.epsilon_W = np.zeros_like(mu_W)  # ε_W: (D_in, D_out); zero until sample_noise
        self.epsilon_b = np.zeros_like(mu_b)  # ε_b: (D_out,)
        self.W = np.empty_like(mu_W)  # μ_W + σ_W ⊙ ε_W, built by each forward, read by backward
        self.x = None  # the input of the last forward, kept for backward

    @staticmethod
    def initialise(mu_W: np.ndarray, sigma_W: np.ndarray, mu_b: np.ndarray, sigma_b: np.ndarray,
                   rng: np.random.Generator, sigma0: float = 0.5) -> None:
        """μ ~ U[−1/√D_in, 1/√D_in] and σ = σ₀/√D_in, written into the given arrays."""
        bound = 1.0 / np.sqrt(mu_W.shape[0])
        mu_W[...] = rng.uniform(-bound, bound, mu_W.shape)
        mu_b[...] = rng.uniform(-bound, bound, mu_b.shape)
        sigma_W[...] = sigma0 * bound
        sigma_b[...] = sigma0 * bound

    def sample_noise(self, rng: np.random.Generator) -> None:
        """New factorised noise: ε_W = f(ε_in) ⊗ f(ε_out), ε_b = f(ε_out)."""
        D_in, D_out = self.mu_W.shape
        noise_in, noise_out = scaled_noise(rng, D_in, self.mu_W.dtype), scaled_noise(rng, D_out, self.mu_W.dtype)
        np.outer(noise_in, noise_out, out=self.epsilon_W)
        self.epsilon_b[...] = noise_out

    def mean(self) -> None:
        """No noise (ε = 0): the layer computes y = x·μ_W + μ_b, for greedy evaluation."""
        self.epsilon_W[...] = 0
        self.epsilon_b[...] = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """y = x·W + b with the current noise, for x: (B, D_in), without caching anything."""
        W = self.mu_W + self.sigma_W * self.epsilon_W  # (D_in, D_out)
        return x @ W + (self.mu_b + self.sigma_b * self.epsilon_b)  # (B, D_out)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """As __call__, caching x and W, which backward needs."""
        self.x = x
        np.multiply(self.sigma_W, self.epsilon_W, out=self.W)
        self.W += self.mu_W  # W = μ_W + σ_W ⊙ ε_W
        return x @ self.W + (self.mu_b + self.sigma_b * self.epsilon_b)

    def backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Given dL/dy: (B, D_out), store the four parameter gradients and return dL/dx.

        With dL/dW = xᵀ·dL/dy and dL/db = Σ_B dL/dy, as for a Linear layer, and W = μ_W + σ_W ⊙ ε_W
        (so dW/dμ_W = 1 and dW/dσ_W = ε_W, elementwise; the noise is held fixed):
            dL/dμ_W = xᵀ·dL/dy              (D_in, D_out)
            dL/dσ_W = (xᵀ·dL/dy) ⊙ ε_W      (D_in, D_out)
            dL/dμ_b = Σ_B dL/dy             (D_out,)
            dL/dσ_b = (Σ_B dL/dy) ⊙ ε_b     (D_out,)
            dL/dx   = dL/dy · Wᵀ            (B, D_in), returned (None if input_grad is False)
        """
        np.matmul(self.x.T, grad_y, out=self.grad_mu_W)
        np.multiply(self.grad_mu_W, self.epsilon_W, out=self.grad_sigma_W)
        grad_y.sum(axis=0, out=self.grad_mu_b)
        np.multiply(self.grad_mu_b, self.epsilon_b, out=self.grad_sigma_b)
        return grad_y @ self.W.T if input_grad else None
