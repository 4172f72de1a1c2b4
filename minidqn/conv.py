"""A convolutional layer written by hand, by im2col and one matrix product, and the Flatten after it.

Images are channels-last, as MinAtar and gymnasium give them: x: (B, H, W, C) with B the batch,
H and W the rows and columns, C the channels. A `Conv2D` slides k×k filters with stride 1 and no
padding ("valid"), so its output has H′ = H − k + 1 rows and W′ = W − k + 1 columns.

The derivations, with the im2col picture, are in docs/backprop.md; tests/test_conv.py checks every
gradient against central finite differences.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


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

    def __init__(
        self,
        W: np.ndarray,
        b: np.ndarray,
        grad_W: np.ndarray | None = None,
        grad_b: np.ndarray | None = None,
    ):
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
        B, H, W, _ = x.shape
        H_out, W_out, _ = self.output_shape(H, W)
        y = self.im2col(x) @ self.W.reshape(-1, self.C_out)  # (B·H′·W′, C_out)
        y += self.b  # b broadcasts over every patch
        return y.reshape(B, H_out, W_out, self.C_out)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y for x: (B, H, W, C_in), caching X_col because dL/dW = X_colᵀ·dL/dy needs it."""
        B, H, W, _ = x.shape
        H_out, W_out, _ = self.output_shape(H, W)
        self.X_col, self.x_shape = self.im2col(x), x.shape
        y = self.X_col @ self.W.reshape(-1, self.C_out)  # (B·H′·W′, C_out)
        y += self.b
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
