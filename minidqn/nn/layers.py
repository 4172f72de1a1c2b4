"""A multilayer perceptron written by hand: Linear and ReLU layers, each with its backward pass.

Shapes use B for the batch, D_in and D_out for a layer's input and output features, and A for
the network's outputs (the actions, when the network is a Q-network).

Every parameter of an `MLP` lives in one contiguous vector θ (`flat_params`); the per-layer
arrays in `params` (W₁, b₁, W₂, b₂, ...) are views into it, and the same holds for the gradients.
That costs nothing in clarity layer by layer, and it turns the optimizer step, the target-network
copy and the Polyak blend into one vector operation each instead of one per array.

The derivations are in docs/backprop.md; tests/test_nn.py checks every gradient against
central finite differences.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from minidqn.nn.dueling import Dueling
from minidqn.nn.noisy import NoisyLinear


class Linear:
    """An affine layer y = x·W + b, with W: (D_in, D_out) and b: (D_out,)."""

    def __init__(
        self,
        W: np.ndarray,
        b: np.ndarray,
        grad_W: np.ndarray | None = None,
        grad_b: np.ndarray | None = None,
    ):
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise ValueError(f"W must be (D_in, D_out) and b (D_out,); got W {W.shape}, b {b.shape}")
        self.W, self.b = W, b
        # NOTE: gradients are overwritten (not accumulated) by every backward call.
        self.grad_W = np.zeros_like(W) if grad_W is None else grad_W
        self.grad_b = np.zeros_like(b) if grad_b is None else grad_b
        self.x = None  # the input of the last forward, kept for backward

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """y = x·W + b for x: (B, D_in), without caching anything."""
        y = x @ self.W  # (B, D_out)
        y += self.b  # b broadcasts over the batch
        return y

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = x·W + b, caching x because dL/dW = xᵀ·dL/dy needs it."""
        self.x = x
        return self(x)

    def backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Given dL/dy: (B, D_out), store dL/dW and dL/db and return dL/dx.

        For y = x·W + b:
            dL/dW = xᵀ · dL/dy       (D_in, D_out), into grad_W
            dL/db = Σ_B dL/dy        (D_out,),      into grad_b
            dL/dx = dL/dy · Wᵀ       (B, D_in),     returned (None if input_grad is False)
        """
        np.matmul(self.x.T, grad_y, out=self.grad_W)
        grad_y.sum(axis=0, out=self.grad_b)
        return grad_y @ self.W.T if input_grad else None


class ReLU:
    """The rectifier f(x) = max(x, 0), elementwise."""

    def __init__(self):
        self.mask = None  # f′(x) of the last forward's input, kept for backward

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """f(x) = max(x, 0), caching the mask f′(x) = [x > 0] because backward needs it."""
        self.mask = x > 0  # (B, D) booleans
        return np.maximum(x, 0)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        """dL/dx = dL/dy ⊙ f′(x), with f′(x) = 1 if x > 0 else 0.

        At the kink x = 0 we take f′(0) = 0 (any value in [0, 1] is a valid subgradient).
        ReLU has no parameters.
        """
        return grad_y * self.mask


class MLP:
    """A stack Linear → ReLU → ... → Linear mapping x: (B, sizes[0]) to (B, sizes[-1]).

    Initialisation: weights feeding a ReLU are drawn from N(0, 2/D_in) (He et al., 2015), which
    keeps the variance of activations constant through ReLU layers, since ReLU zeroes half of a
    symmetric input; the output layer, which no ReLU follows, uses N(0, 1/D_in) (LeCun) for the
    same reason without the halving. Biases start at zero.

    With dueling=True the last Linear layer outputs 1 + sizes[-1] numbers, a value and one
    advantage per output, and a `Dueling` layer combines them into the sizes[-1] outputs.

    A distributional network (minidqn.distributional) gives each output `atoms` numbers, so x
    maps to (B, sizes[-1]·atoms), each output's numbers side by side. With noisy=True every
    Linear layer is a NoisyLinear (minidqn.nn.noisy), initialised as Fortunato et al. (2018)
    do with σ₀ = noisy_sigma0; `sample_noise` draws its noise and `mean_weights` removes it.
    """

    def __init__(self, sizes: Sequence[int], seed: int | np.random.Generator = 0, dtype=np.float64,
                 dueling: bool = False, dueling_type: str = "avg", flat_params: np.ndarray | None = None,
                 flat_grads: np.ndarray | None = None, atoms: int = 1, noisy: bool = False,
                 noisy_sigma0: float = 0.5):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"sizes must list at least two positive layer widths, got {sizes}")
        if not isinstance(dueling, (bool, np.bool_)):
            raise TypeError(f"dueling must be True or False, got {dueling!r}")
        self.sizes, self.dueling, self.dueling_type = sizes, bool(dueling), dueling_type
        self.atoms, self.noisy, self.noisy_sigma0 = int(atoms), bool(noisy), float(noisy_sigma0)
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise TypeError(f"dtype must be a floating-point type, got {self.dtype}")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

        shapes = self.parameter_shapes(sizes, dueling, self.atoms, self.noisy)
        n_params = sum(int(np.prod(s)) for s in shapes)
        # θ, every parameter in one vector, and dL/dθ aligned with it. A network that puts layers
        # in front of this MLP (minidqn.nn.conv.ConvNet) passes the tail of its own vectors here.
        self.flat_params = np.zeros(n_params, self.dtype) if flat_params is None else flat_params
        self.flat_grads = np.zeros(n_params, self.dtype) if flat_grads is None else flat_grads
        for name, vector in (("flat_params", self.flat_params), ("flat_grads", self.flat_grads)):
            if vector.shape != (n_params,) or vector.dtype != self.dtype:
                raise ValueError(f"{name} must be {self.dtype} ({n_params},), got {vector.dtype} {vector.shape}")
        self.params = split_views(self.flat_params, shapes)  # views: [W₁, b₁, W₂, b₂, ...]
        self.grads = split_views(self.flat_grads, shapes)  # views: [dL/dW₁, dL/db₁, ...]

        self.layers: list[Linear | NoisyLinear | ReLU | Dueling] = []
        n_linear, k = len(sizes) - 1, 4 if self.noisy else 2  # k arrays per layer: W, b (μ_W, σ_W, μ_b, σ_b)
        for i in range(n_linear):
            arrays, grads = self.params[k * i : k * (i + 1)], self.grads[k * i : k * (i + 1)]
            if self.noisy:
                NoisyLinear.initialise(*arrays, rng, self.noisy_sigma0)
                self.layers.append(NoisyLinear(*arrays, grads))
            else:
                W, b = arrays
                gain = 2.0 if i < n_linear - 1 else 1.0  # He before a ReLU, LeCun at the output
                W[...] = rng.normal(0.0, np.sqrt(gain / W.shape[0]), size=W.shape)
                self.layers.append(Linear(W, b, *grads))
            if i < n_linear - 1:
                self.layers.append(ReLU())
        if dueling:
            self.layers.append(Dueling(sizes[-1], self.dtype, aggregation=dueling_type, atoms=self.atoms))
        self.noisy_layers = [layer for layer in self.layers if isinstance(layer, NoisyLinear)]  # [] if plain
        # What identifies the architecture, as plain metadata: saved with θ, and compared before θ
        # is copied or blended from another network (computed once: it never changes).
        self.architecture = {"sizes": self.sizes, "dueling": self.dueling, "dueling_type": self.dueling_type,
                             "dtype": self.dtype.name, **self.output_options()}

    def output_options(self) -> dict:
        """atoms and noise, where they are not the plain network's (so a plain network's metadata
        reads as it always has)."""
        return {**({"atoms": self.atoms} if self.atoms != 1 else {}),
                **({"noisy": True, "noisy_sigma0": self.noisy_sigma0} if self.noisy else {})}

    @staticmethod
    def parameter_shapes(sizes: Sequence[int], dueling: bool = False, atoms: int = 1,
                         noisy: bool = False) -> list[tuple[int, ...]]:
        """The shapes of [W₁, b₁, W₂, b₂, ...] (noisy: [μ_W₁, σ_W₁, μ_b₁, σ_b₁, ...]), in the order θ holds them."""
        widths = [*sizes[:-1], ((1 if dueling else 0) + sizes[-1]) * atoms]  # the Linear layers' widths
        shapes = []
        for d_in, d_out in itertools.pairwise(widths):
            shapes += [(d_in, d_out), (d_in, d_out), (d_out,), (d_out,)] if noisy else [(d_in, d_out), (d_out,)]
        return shapes

    def sample_noise(self, rng: np.random.Generator) -> None:
        """New noise in every noisy layer (nothing for a plain network)."""
        for layer in self.noisy_layers:
            layer.sample_noise(rng)

    def mean_weights(self) -> None:
        """No noise in any noisy layer: the network computes with its mean weights μ."""
        for layer in self.noisy_layers:
            layer.mean()

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The outputs for x: (B, sizes[0]) → (B, sizes[-1]), caching what backward needs."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The same outputs as `forward`, without touching the caches of the last forward.

        Use it for values no gradient flows through (acting, the TD target), so that a later
        `backward` still belongs to the last `forward`.
        """
        for layer in self.layers:
            x = layer(x)
        return x

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate dL/d(output): (B, sizes[-1]) through the last forward.

        Fills `grads` (overwriting them) and returns dL/dx: (B, sizes[0]). With input_grad=False
        the first layer skips dL/dx, a matrix product that training never reads, and returns None.
        """
        for layer in reversed(self.layers[1:]):
            grad_out = layer.backward(grad_out)
        return self.layers[0].backward(grad_out, input_grad)

    @property
    def num_params(self) -> int:
        return self.flat_params.size

    def clone(self) -> MLP:
        """An independent copy: same architecture and parameter values, no memory shared."""
        twin = MLP(self.sizes, seed=0, dtype=self.dtype, dueling=self.dueling, dueling_type=self.dueling_type,
                   atoms=self.atoms, noisy=self.noisy, noisy_sigma0=self.noisy_sigma0)
        twin.flat_params[:] = self.flat_params
        return twin

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The architecture as plain metadata, and θ as the one array {"params": (P,)}."""
        return dict(self.architecture), {"params": self.flat_params}

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Copy θ from a `state()` of a network of the same architecture; ValueError otherwise."""
        load_parameters(self, meta, arrays)


def load_parameters(network, meta: dict, arrays: dict[str, np.ndarray]) -> None:
    """network.flat_params ← the saved θ, if `meta` describes the same architecture as the
    network's own and θ has its size and dtype; ValueError otherwise (for MLP and ConvNet)."""
    mine = network.architecture
    if meta != mine:
        raise ValueError(f"the saved network is {meta}, this one {mine}")
    params = arrays["params"]
    if params.shape != network.flat_params.shape or params.dtype != network.dtype:
        raise ValueError(f"params must be {network.dtype} {network.flat_params.shape}, got {params.dtype} {params.shape}")
    network.flat_params[:] = params


def split_views(flat: np.ndarray, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Views of consecutive slices of `flat`, reshaped to `shapes`."""
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[start : start + size].reshape(shape))
        start += size
    return views
