"""A convolutional layer written by hand, by im2col and one matrix product, and the Flatten after it.

Images are channels-last, as MinAtar and gymnasium give them: x: (B, H, W, C) with B the batch,
H and W the rows and columns, C the channels. A `Conv2D` slides k×k filters with stride 1 and no
padding ("valid"), so its output has H′ = H − k + 1 rows and W′ = W − k + 1 columns.

`ConvNet` puts convolutions in front of an `MLP`, for a Q-network that reads images; it keeps the
MLP's contract (forward, a cache-free call, backward, params, grads, one flat parameter vector θ, clone,
state), so the agent, the optimizer, the target network and checkpoints treat both alike.

The derivations, with the im2col picture, are in docs/backprop.md; tests/test_conv.py checks every
gradient against central finite differences.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minidqn.nn.layers import MLP, ReLU, load_parameters, split_views


class Conv2D:
    """y[b, i, j, o] = b_o + Σ_{p, q, c} x[b, i + p, j + q, c] · W[p, q, c, o], for k×k filters W.

    W: (k, k, C_in, C_out), one k×k×C_in filter per output channel o; b: (C_out,). Stride 1, valid
    padding: x: (B, H, W, C_in) → y: (B, H′, W′, C_out) with H′ = H − k + 1, W′ = W − k + 1.

    im2col ("image to columns") turns the sum into one matrix product: row (b, i, j) of X_col holds
    the k×k×C_in patch of x whose top-left corner is (i, j), flattened in W's (p, q, c) order,

        X_col[(b, i, j), (p, q, c)] = x[b, i + p, j + q, c]      (B·H′·W′, k·k·C_in)
        y = X_col · W_mat + b,   W_mat = W reshaped to           (k·k·C_in, C_out)

    which is a Linear layer applied to every patch at once, with the same weights at every (i, j).
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, grad_W: np.ndarray | None = None,
                 grad_b: np.ndarray | None = None):
        if W.ndim != 4 or W.shape[0] != W.shape[1] or b.shape != (W.shape[3],):
            raise ValueError(f"W must be (k, k, C_in, C_out) and b (C_out,); got W {W.shape}, b {b.shape}")
        self.W, self.b = W, b
        self.k, _, self.C_in, self.C_out = W.shape
        # NOTE: gradients are overwritten (not accumulated) by every backward call.
        self.grad_W = np.zeros_like(W) if grad_W is None else grad_W
        self.grad_b = np.zeros_like(b) if grad_b is None else grad_b
        self.X_col = None  # the patches of the last forward's input, kept for dL/dW
        self.x_shape = None  # (B, H, W, C_in) of the last forward's input, kept for dL/dx

    def output_shape(self, H: int, W: int) -> tuple[int, int, int]:
        """(H′, W′, C_out) for an input of H rows and W columns."""
        if H < self.k or W < self.k:
            raise ValueError(f"a {self.k}×{self.k} filter does not fit a {H}×{W} input")
        return H - self.k + 1, W - self.k + 1, self.C_out

    def im2col(self, x: np.ndarray) -> np.ndarray:
        """X_col: (B·H′·W′, k·k·C_in), row (b, i, j) the patch x[b, i:i+k, j:j+k, :] flattened."""
        B, H, W, C = x.shape
        if C != self.C_in:
            raise ValueError(f"x must have {self.C_in} channels (last axis), got shape {x.shape}")
        H_out, W_out, _ = self.output_shape(H, W)
        patches = sliding_window_view(x, (self.k, self.k), axis=(1, 2))  # (B, H′, W′, C, k, k), a view
        patches = patches.transpose(0, 1, 2, 4, 5, 3)  # (B, H′, W′, k, k, C): W's (p, q, c) order
        return patches.reshape(B * H_out * W_out, self.k * self.k * C)  # the one copy: (B·H′·W′, k·k·C)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """y for x: (B, H, W, C_in), without caching anything."""
        return self._convolve(self.im2col(x), x.shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y for x: (B, H, W, C_in), caching X_col because dL/dW = X_colᵀ·dL/dy needs it."""
        self.X_col, self.x_shape = self.im2col(x), x.shape
        return self._convolve(self.X_col, x.shape)

    def _convolve(self, X_col: np.ndarray, x_shape: tuple[int, ...]) -> np.ndarray:
        """y = X_col · W_mat + b, as (B, H′, W′, C_out)."""
        B, H, W, _ = x_shape
        H_out, W_out, _ = self.output_shape(H, W)
        y = X_col @ self.W.reshape(-1, self.C_out)  # (B·H′·W′, C_out)
        y += self.b  # b broadcasts over every patch
        return y.reshape(B, H_out, W_out, self.C_out)

    def backward(self, grad_y: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Given dL/dy: (B, H′, W′, C_out), store dL/dW and dL/db and return dL/dx.

        With G = dL/dy reshaped to (B·H′·W′, C_out), the rows of the im2col product:
            dL/dW_mat = X_colᵀ · G            (k·k·C_in, C_out), reshaped to W's (k, k, C_in, C_out)
            dL/db     = Σ over B, H′, W′ of G  (C_out,)
            dL/dX_col = G · W_matᵀ            (B·H′·W′, k·k·C_in)
        and col2im scatters each patch's gradient back onto the pixels it was read from: a pixel
        lies in up to k² patches, so its gradient is the sum over them,
            dL/dx[b, i + p, j + q, c] += dL/dX_col[(b, i, j), (p, q, c)]   for every (i, j, p, q),
        one strided addition per filter offset (p, q). Returns dL/dx: (B, H, W, C_in), or None if
        input_grad is False (the first layer's input is the observation, which needs no gradient).
        """
        G = grad_y.reshape(-1, self.C_out)  # (B·H′·W′, C_out)
        np.matmul(self.X_col.T, G, out=self.grad_W.reshape(-1, self.C_out))
        G.sum(axis=0, out=self.grad_b)
        if not input_grad:
            return None
        B, H, W, C = self.x_shape
        H_out, W_out = H - self.k + 1, W - self.k + 1
        grad_cols = (G @ self.W.reshape(-1, self.C_out).T).reshape(B, H_out, W_out, self.k, self.k, C)
        grad_x = np.zeros(self.x_shape, grad_cols.dtype)  # (B, H, W, C)
        for p in range(self.k):
            for q in range(self.k):
                grad_x[:, p : p + H_out, q : q + W_out, :] += grad_cols[:, :, :, p, q, :]  # col2im
        return grad_x


class Flatten:
    """(B, H, W, C) → (B, H·W·C), row-major: the bridge from feature maps to a Linear layer."""

    def __init__(self):
        self.x_shape = None  # the last forward's input shape, kept to undo the reshape

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(len(x), -1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, grad_y: np.ndarray) -> np.ndarray:
        """dL/dx is dL/dy in the input's shape: flattening moves numbers, it changes none."""
        return grad_y.reshape(self.x_shape)


class ConvNet:
    """[Conv2D → ReLU] × L → Flatten → MLP: Q-values from an image of shape (H, W, C).

        x: (B, H·W·C) → (B, H, W, C) → conv layers → (B, H_L, W_L, C_L) → (B, H_L·W_L·C_L) → MLP → (B, A)

    The input is the image flattened row-major, one row per observation, as the replay memory
    stores it; the first step views each row as its H×W×C image again (a reshape, no copy). So
    `sizes` = [H·W·C, *hidden_sizes, A] as for an MLP over the same inputs. `conv_layers` lists
    (out_channels, kernel_size) per layer. Filters are initialised like the hidden Linear layers,
    N(0, 2/fan_in) with fan_in = k·k·C_in, the inputs of one output pixel (He et al., 2015).
    `dueling`, `atoms` and the noisy layers are the MLP's (minidqn.nn.layers.MLP); the
    convolutions are never noisy.
    """

    def __init__(self, image_shape: Sequence[int], conv_layers: Sequence[Sequence[int]], hidden_sizes: Sequence[int],
                 n_actions: int, seed: int | np.random.Generator = 0, dtype=np.float64, dueling: bool = False,
                 dueling_type: str = "avg", atoms: int = 1, noisy: bool = False, noisy_sigma0: float = 0.5):
        self.image_shape = tuple(int(n) for n in image_shape)
        self.conv_layers = [(int(c), int(k)) for c, k in conv_layers]
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"image_shape must be (H, W, C), three positive sizes; got {image_shape}")
        if not self.conv_layers or min(min(layer) for layer in self.conv_layers) < 1:
            raise ValueError(f"conv_layers must list at least one (out_channels, kernel_size) pair, got {conv_layers}")
        self.dtype = np.dtype(dtype)
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

        H, W, C = self.image_shape
        conv_shapes = []
        for C_out, k in self.conv_layers:
            if k > min(H, W):
                raise ValueError(f"conv_layers: a {k}×{k} filter does not fit the {H}×{W} maps it would slide over")
            conv_shapes += [(k, k, C, C_out), (C_out,)]
            H, W, C = H - k + 1, W - k + 1, C_out  # valid padding, stride 1
        self.sizes = [int(np.prod(self.image_shape)), *(int(h) for h in hidden_sizes), int(n_actions)]
        head_sizes = [H * W * C, *self.sizes[1:]]  # the MLP reads the last feature maps, flattened
        n_conv = sum(int(np.prod(shape)) for shape in conv_shapes)
        n_head = sum(int(np.prod(shape)) for shape in MLP.parameter_shapes(head_sizes, dueling, atoms, noisy))
        self.flat_params = np.zeros(n_conv + n_head, self.dtype)  # θ: the filters first, then the MLP's
        self.flat_grads = np.zeros(n_conv + n_head, self.dtype)  # dL/dθ, aligned with θ

        conv_params = split_views(self.flat_params[:n_conv], conv_shapes)  # views: [K₁, c₁, K₂, c₂, ...]
        conv_grads = split_views(self.flat_grads[:n_conv], conv_shapes)
        self.layers: list = []
        for i in range(len(self.conv_layers)):
            filters = conv_params[2 * i]
            k, _, C_in, _ = filters.shape
            filters[...] = rng.normal(0.0, np.sqrt(2.0 / (k * k * C_in)), size=filters.shape)
            self.layers += [Conv2D(filters, conv_params[2 * i + 1], conv_grads[2 * i], conv_grads[2 * i + 1]), ReLU()]
        self.layers.append(Flatten())
        self.head = MLP(head_sizes, seed=rng, dtype=self.dtype, dueling=dueling, dueling_type=dueling_type,
                        flat_params=self.flat_params[n_conv:], flat_grads=self.flat_grads[n_conv:], atoms=atoms,
                        noisy=noisy, noisy_sigma0=noisy_sigma0)
        self.layers += self.head.layers
        self.params, self.grads = conv_params + self.head.params, conv_grads + self.head.grads
        self.dueling, self.dueling_type = self.head.dueling, self.head.dueling_type
        self.atoms, self.noisy, self.noisy_sigma0 = self.head.atoms, self.head.noisy, self.head.noisy_sigma0
        self.sample_noise, self.mean_weights = self.head.sample_noise, self.head.mean_weights
        self.architecture = {"image_shape": list(self.image_shape), "conv_layers": [list(c) for c in self.conv_layers],
                             "sizes": self.sizes, "dueling": self.dueling, "dueling_type": self.dueling_type,
                             "dtype": self.dtype.name, **self.head.output_options()}  # as MLP.architecture

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The outputs for x: (B, H·W·C) → (B, A), caching what backward needs."""
        x = x.reshape(len(x), *self.image_shape)  # (B, H, W, C)
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The same outputs as `forward`, without touching the caches of the last forward."""
        x = x.reshape(len(x), *self.image_shape)  # (B, H, W, C)
        for layer in self.layers:
            x = layer(x)
        return x

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate dL/d(output): (B, A); fills `grads` (overwriting them) and returns dL/dx
        as (B, H·W·C), or None with input_grad=False (the first convolution then skips col2im)."""
        for layer in reversed(self.layers[1:]):
            grad_out = layer.backward(grad_out)
        grad_x = self.layers[0].backward(grad_out, input_grad)
        return None if grad_x is None else grad_x.reshape(len(grad_x), -1)

    @property
    def num_params(self) -> int:
        return self.flat_params.size

    def clone(self) -> ConvNet:
        """An independent copy: same architecture and parameter values, no memory shared."""
        twin = ConvNet(self.image_shape, self.conv_layers, self.sizes[1:-1], self.sizes[-1], seed=0, dtype=self.dtype,
                       dueling=self.dueling, dueling_type=self.dueling_type, atoms=self.atoms, noisy=self.noisy,
                       noisy_sigma0=self.noisy_sigma0)
        twin.flat_params[:] = self.flat_params
        return twin

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The architecture as plain metadata, and θ as the one array {"params": (P,)}."""
        return dict(self.architecture), {"params": self.flat_params}

    def load_state(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Copy θ from a `state()` of a network of the same architecture; ValueError otherwise."""
        load_parameters(self, meta, arrays)
