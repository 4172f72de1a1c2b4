"""The convolution against its defining sum, and every gradient against central finite differences, in float64."""

import numpy as np
import pytest

from minidqn.nn.conv import Conv2D, ConvNet, Flatten
from minidqn.nn.gradcheck import numerical_gradient, relative_error

TOL = 1e-6
# (B, H, W, C_in, C_out, k): batch 1, one input channel, 1×1 and 3×3 filters, non-square inputs,
# and a filter as large as the input (one output pixel).
SHAPES = [(1, 4, 4, 1, 1, 1), (2, 5, 3, 1, 2, 3), (3, 4, 6, 2, 3, 3), (1, 6, 5, 3, 2, 2), (2, 3, 3, 2, 4, 3)]


def convolve_by_loops(x, W, b):
    """y[b, i, j, o] = b_o + Σ_{p, q, c} x[b, i + p, j + q, c]·W[p, q, c, o], the definition as written."""
    B, H, Wd, _ = x.shape
    k, _, _, C_out = W.shape
    y = np.zeros((B, H - k + 1, Wd - k + 1, C_out))
    for n in range(B):
        for i in range(H - k + 1):
            for j in range(Wd - k + 1):
                for o in range(C_out):
                    y[n, i, j, o] = b[o] + np.sum(x[n, i : i + k, j : j + k, :] * W[:, :, :, o])
    return y


def make_layer(rng, C_in, C_out, k):
    return Conv2D(rng.normal(size=(k, k, C_in, C_out)), rng.normal(size=C_out))


@pytest.mark.parametrize("B,H,W,C_in,C_out,k", SHAPES)
def test_conv2d_by_im2col_equals_the_defining_sum(B, H, W, C_in, C_out, k, rng):
    layer = make_layer(rng, C_in, C_out, k)
    x = rng.normal(size=(B, H, W, C_in))
    y = layer.forward(x)
    assert y.shape == (B, H - k + 1, W - k + 1, C_out)
    np.testing.assert_allclose(y, convolve_by_loops(x, layer.W, layer.b), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(layer(x), y)  # __call__ and forward compute the same thing


def test_im2col_row_is_the_patch_under_the_filter(rng):
    layer = make_layer(rng, C_in=2, C_out=1, k=3)
    x = rng.normal(size=(2, 5, 4, 2))
    X_col = layer.im2col(x)  # (2·3·2, 3·3·2)
    assert X_col.shape == (12, 18)
    b, i, j = 1, 2, 1
    row = (b * 3 + i) * 2 + j  # rows run over (b, i, j) in row-major order
    np.testing.assert_array_equal(X_col[row], x[b, i : i + 3, j : j + 3, :].reshape(-1))


@pytest.mark.parametrize("B,H,W,C_in,C_out,k", SHAPES)
def test_conv2d_backward_matches_finite_difference(B, H, W, C_in, C_out, k, rng, record_grad_error):
    layer = make_layer(rng, C_in, C_out, k)
    x = rng.normal(size=(B, H, W, C_in))
    G = rng.normal(size=(B, H - k + 1, W - k + 1, C_out))  # fixed upstream gradient: L = Σ(y ⊙ G)

    def loss():
        return float(np.sum(layer(x) * G))

    layer.forward(x)
    grad_x = layer.backward(G)
    assert grad_x.shape == x.shape
    for name, analytic, wrt in [("W", layer.grad_W, layer.W), ("b", layer.grad_b, layer.b), ("x", grad_x, x)]:
        error = relative_error(analytic, numerical_gradient(loss, wrt))
        record_grad_error(f"Conv2D dL/d{name}", error)
        assert error < TOL, (name, error)


def test_conv2d_backward_overwrites_its_gradients_and_can_skip_the_input_gradient(rng):
    layer = make_layer(rng, C_in=1, C_out=2, k=3)
    x, G = rng.normal(size=(2, 4, 4, 1)), rng.normal(size=(2, 2, 2, 2))
    layer.forward(x)
    layer.backward(G)
    first = layer.grad_W.copy()
    layer.forward(x)
    assert layer.backward(G, input_grad=False) is None
    np.testing.assert_array_equal(layer.grad_W, first)  # overwritten, not doubled


def test_col2im_counts_each_pixel_once_per_patch_that_covers_it():
    """With all-ones weights and dL/dy = 1, dL/dx at a pixel is the number of k×k patches holding it."""
    layer = Conv2D(np.ones((3, 3, 1, 1)), np.zeros(1))
    layer.forward(np.zeros((1, 5, 4, 1)))
    grad_x = layer.backward(np.ones((1, 3, 2, 1)))[0, :, :, 0]
    rows, cols = np.array([1, 2, 3, 2, 1]), np.array([1, 2, 2, 1])  # patches over each row, each column
    np.testing.assert_array_equal(grad_x, np.outer(rows, cols))


def test_flatten_round_trips_the_shape(rng):
    flatten = Flatten()
    x = rng.normal(size=(3, 2, 4, 5))
    y = flatten.forward(x)
    assert y.shape == (3, 40)
    np.testing.assert_array_equal(y[1], x[1].reshape(-1))
    G = rng.normal(size=(3, 40))
    np.testing.assert_array_equal(flatten.backward(G), G.reshape(3, 2, 4, 5))


@pytest.mark.parametrize("bad_W, bad_b, message", [
    (np.zeros((3, 2, 1, 1)), np.zeros(1), "k, k, C_in, C_out"),
    (np.zeros((3, 3, 1)), np.zeros(1), "k, k, C_in, C_out"),
    (np.zeros((3, 3, 1, 2)), np.zeros(3), "C_out"),
])
def test_conv2d_refuses_weights_of_the_wrong_shape(bad_W, bad_b, message):
    with pytest.raises(ValueError, match=message):
        Conv2D(bad_W, bad_b)


def test_conv2d_refuses_inputs_it_cannot_convolve(rng):
    layer = make_layer(rng, C_in=2, C_out=1, k=3)
    with pytest.raises(ValueError, match="2 channels"):
        layer.forward(np.zeros((1, 5, 5, 3)))
    with pytest.raises(ValueError, match="does not fit a 2×5 input"):
        layer.forward(np.zeros((1, 2, 5, 2)))


NETWORKS = [  # (image_shape, conv_layers, hidden_sizes, n_actions, dueling)
    ((5, 5, 2), [(3, 3)], [4], 3, False),
    ((4, 6, 1), [(2, 1), (3, 3)], [5, 4], 2, True),
    ((3, 3, 3), [(2, 3)], [3], 4, True),  # the filter covers the image: one output pixel
]


@pytest.mark.parametrize("image_shape, conv_layers, hidden, A, dueling", NETWORKS)
@pytest.mark.parametrize("B", [1, 3])
def test_convnet_backward_matches_finite_difference(image_shape, conv_layers, hidden, A, dueling, B, rng,
                                                    record_grad_error):
    net = ConvNet(image_shape, conv_layers, hidden, A, seed=rng, dtype=np.float64, dueling=dueling)
    # NOTE: biases start at zero, so a layer whose inputs are all zero (every ReLU before it off)
    # would sit exactly on the next ReLU's kink; random biases keep every unit off it.
    net.flat_params[:] = rng.normal(size=net.num_params)
    x = rng.normal(size=(B, int(np.prod(image_shape))))  # flattened images, as replay stores them
    G = rng.normal(size=(B, A))

    def loss():
        return float(np.sum(net(x) * G))

    assert net.forward(x).shape == (B, A)
    grad_x = net.backward(G)
    assert grad_x.shape == x.shape
    for name, analytic, wrt in [("θ", net.flat_grads, net.flat_params), ("x", grad_x, x)]:
        error = relative_error(analytic, numerical_gradient(loss, wrt))
        record_grad_error(f"ConvNet dL/d{name}", error)
        assert error < TOL, (name, error)
    assert net.backward(G, input_grad=False) is None


def test_convnet_params_are_views_of_one_vector_filters_first(rng):
    net = ConvNet((6, 6, 2), [(4, 3)], [8], 3, seed=rng)
    K, c = net.params[0], net.params[1]
    assert K.shape == (3, 3, 2, 4) and c.shape == (4,)
    assert net.num_params == sum(p.size for p in net.params) == (3 * 3 * 2 + 1) * 4 + (4 * 4 * 4 + 1) * 8 + (8 + 1) * 3
    np.testing.assert_allclose(K.std(), np.sqrt(2 / 18), rtol=0.3)  # He: N(0, 2/fan_in), fan_in = k·k·C_in
    net.flat_params[0] = 7.0
    assert K[0, 0, 0, 0] == 7.0 and np.shares_memory(net.params[-1], net.flat_params)


def test_convnet_clone_and_state_round_trip_with_no_memory_shared(rng):
    net = ConvNet((5, 4, 2), [(3, 2)], [6], 2, seed=rng, dtype=np.float32, dueling=True)
    twin = net.clone()
    x = rng.normal(size=(2, 40)).astype(np.float32)
    np.testing.assert_array_equal(twin(x), net(x))
    twin.flat_params += 1
    assert not np.array_equal(twin(x), net(x))
    meta, arrays = net.state()
    other = ConvNet((5, 4, 2), [(3, 2)], [6], 2, seed=9, dtype=np.float32, dueling=True)
    other.load_state(meta, arrays)
    np.testing.assert_array_equal(other(x), net(x))
    with pytest.raises(ValueError, match="saved network"):
        ConvNet((5, 4, 2), [(2, 2)], [6], 2, dtype=np.float32, dueling=True).load_state(meta, arrays)


def test_convnet_refuses_filters_larger_than_the_maps():
    with pytest.raises(ValueError, match="3×3 filter does not fit the 2×2 maps"):
        ConvNet((4, 4, 1), [(2, 3), (2, 3)], [4], 2)
    with pytest.raises(ValueError, match="image_shape"):
        ConvNet((4, 4), [(2, 3)], [4], 2)
