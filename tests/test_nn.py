"""Every gradient of the network against central finite differences, in float64."""

import numpy as np
import pytest

from minidqn.agents.target_network import hard_update, soft_update
from minidqn.nn.dueling import Dueling
from minidqn.nn.gradcheck import numerical_gradient, relative_error
from minidqn.nn.layers import MLP, Linear, ReLU

TOL = 1e-6
SHAPES = [(1, 3, 2), (4, 5, 3), (7, 2, 6)]  # (B, D_in, D_out), batch 1 included


@pytest.mark.parametrize("B,D_in,D_out", SHAPES)
def test_linear_backward_matches_finite_difference(B, D_in, D_out, rng, record_grad_error):
    layer = Linear(rng.normal(size=(D_in, D_out)), rng.normal(size=D_out))
    x = rng.normal(size=(B, D_in))
    G = rng.normal(size=(B, D_out))  # fixed upstream gradient: L = Σ(y ⊙ G), so dL/dy = G

    def loss():
        return float(np.sum(layer(x) * G))

    layer.forward(x)
    grad_x = layer.backward(G)
    for name, analytic, wrt in [("W", layer.grad_W, layer.W), ("b", layer.grad_b, layer.b), ("x", grad_x, x)]:
        error = relative_error(analytic, numerical_gradient(loss, wrt))
        record_grad_error(f"Linear dL/d{name}", error)
        assert error < TOL, (name, error)


@pytest.mark.parametrize("B,D", [(1, 4), (5, 3), (8, 16)])
def test_relu_backward_matches_finite_difference(B, D, rng, record_grad_error):
    relu = ReLU()
    x = rng.normal(size=(B, D))
    x[np.abs(x) < 1e-3] = 0.5  # keep inputs off the kink, where f′ is not defined
    G = rng.normal(size=(B, D))
    relu.forward(x)
    analytic = relu.backward(G)
    error = relative_error(analytic, numerical_gradient(lambda: float(np.sum(relu(x) * G)), x))
    record_grad_error("ReLU dL/dx", error)
    assert error < TOL


def test_relu_gradient_at_kink_is_zero():
    relu = ReLU()
    relu.forward(np.array([[0.0, 1.0, -1.0]]))
    np.testing.assert_array_equal(relu.backward(np.ones((1, 3))), [[0.0, 1.0, 0.0]])


@pytest.mark.parametrize("aggregation", ["avg", "max", "naive"])
@pytest.mark.parametrize("as_product", [False, True], ids=["plain", "product"])
@pytest.mark.parametrize("B,A", [(1, 2), (5, 3), (4, 6)])
def test_dueling_backward_matches_finite_difference(B, A, as_product, aggregation, rng, record_grad_error):
    head = Dueling(A, as_product=as_product, aggregation=aggregation)
    z = rng.normal(size=(B, 1 + A))  # [V | A(·, 1) ... A(·, A)]: distinct values, so no tie at the max
    G = rng.normal(size=(B, A))
    assert head.forward(z).shape == (B, A)  # before backward: "max" keeps its argmax here
    analytic = head.backward(G)
    assert analytic.shape == (B, 1 + A)
    error = relative_error(analytic, numerical_gradient(lambda: float(np.sum(head(z) * G)), z))
    record_grad_error(f"Dueling {aggregation} dL/dz ({'product' if head.as_product else 'plain'})", error)
    assert error < TOL


def test_dueling_max_and_naive_aggregate_as_keras_rl_does():
    z = np.array([[10.0, 1.0, 2.0, 6.0]])  # V = 10, advantages 1, 2, 6
    np.testing.assert_array_equal(Dueling(3, aggregation="max")(z), [[5.0, 6.0, 10.0]])  # V + A − max A
    np.testing.assert_array_equal(Dueling(3, aggregation="naive")(z), [[11.0, 12.0, 16.0]])  # V + A
    np.testing.assert_array_equal(Dueling(3, aggregation="naive", as_product=False)(z), [[11.0, 12.0, 16.0]])
    tie = Dueling(2, aggregation="max")
    tie.forward(np.array([[0.0, 3.0, 3.0]]))  # both advantages are the max: the first takes the gradient
    np.testing.assert_array_equal(tie.backward(np.array([[1.0, 2.0]])), [[3.0, 1.0 - 3.0, 2.0]])
    with pytest.raises(ValueError, match="aggregation"):
        Dueling(2, aggregation="mean")


@pytest.mark.parametrize("B,A", [(1, 2), (64, 2), (7, 5)])
def test_dueling_product_form_equals_the_plain_form(B, A, rng):
    """The fast path Q = z·M computes V + A − mean(A), forward and backward, in float32 too."""
    plain, product = Dueling(A, np.float32, as_product=False), Dueling(A, np.float32)
    z, G = rng.normal(size=(B, 1 + A)).astype(np.float32), rng.normal(size=(B, A)).astype(np.float32)
    np.testing.assert_allclose(product(z), plain(z), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(product.backward(G), plain.backward(G), rtol=1e-5, atol=1e-6)
    assert product(z).dtype == plain(z).dtype == np.float32


@pytest.mark.parametrize("as_product", [False, True], ids=["plain", "product"])
def test_dueling_combines_value_and_mean_centred_advantages(as_product):
    head = Dueling(3, as_product=as_product)
    z = np.array([[10.0, 1.0, 2.0, 6.0]])  # V = 10, advantages 1, 2, 6 (mean 3)
    np.testing.assert_allclose(head(z), [[8.0, 9.0, 13.0]], rtol=1e-15)
    # Without the mean, V + c with every A − c would give the same Q; with it, a shift of the
    # advantages changes nothing, so the level of Q is V's alone.
    np.testing.assert_allclose(head(z + [[0.0, 5.0, 5.0, 5.0]]), head(z), rtol=1e-15)
    np.testing.assert_allclose(head(z + [[5.0, 0.0, 0.0, 0.0]]), head(z) + 5.0, rtol=1e-15)
    assert Dueling(2, np.float32, as_product)(z[:, :3].astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("dueling", [False, True, "max", "naive"])
@pytest.mark.parametrize("sizes,B", [([3, 5, 2], 1), ([4, 8, 8, 2], 6), ([2, 3, 4, 5, 3], 3)])
def test_mlp_backward_matches_finite_difference_for_every_param_and_input(sizes, B, dueling, rng,
                                                                          record_grad_error):
    kind = dueling if isinstance(dueling, str) else "avg"
    net = MLP(sizes, seed=7, dtype=np.float64, dueling=bool(dueling), dueling_type=kind)
    for b in net.params[1::2]:
        # Nonzero biases: with the initial zeros, a sample whose ReLUs are all off feeds exactly
        # 0 into the next ReLU, the kink where finite differences see half a slope.
        b[:] = rng.normal(size=b.shape)
    x = rng.normal(size=(B, sizes[0]))
    G = rng.normal(size=(B, sizes[-1]))

    def loss():
        return float(np.sum(net(x) * G))

    net.forward(x)
    grad_x = net.backward(G)
    for i, (param, grad) in enumerate(zip(net.params, net.grads)):
        error = relative_error(grad, numerical_gradient(loss, param))
        record_grad_error(f"MLP{f' (dueling {kind})' * bool(dueling)} dL/dθ", error)
        assert error < TOL, (i, error)
    error = relative_error(grad_x, numerical_gradient(loss, x))
    record_grad_error(f"MLP{f' (dueling {kind})' * bool(dueling)} dL/dx", error)
    assert error < TOL


@pytest.mark.parametrize("dueling", [False, True, "max", "naive"])
@pytest.mark.parametrize("atoms, noisy", [(3, False), (1, True), (4, True)])
def test_distributional_and_noisy_mlps_backpropagate_every_param(atoms, noisy, dueling, rng, record_grad_error):
    """N outputs per action (dueling over each atom's column) and noisy layers (μ and σ, with the
    noise held): every gradient against finite differences."""
    kind = dueling if isinstance(dueling, str) else "avg"
    net = MLP([3, 5, 4, 2], seed=7, dtype=np.float64, dueling=bool(dueling), dueling_type=kind, atoms=atoms,
              noisy=noisy)
    net.sample_noise(np.random.default_rng(3))
    for b in net.params[2::4] if noisy else net.params[1::2]:  # nonzero biases, away from the ReLU's kink
        b[:] = rng.normal(size=b.shape)
    x = rng.normal(size=(6, 3))
    G = rng.normal(size=(6, 2 * atoms))
    assert net(x).shape == (6, 2 * atoms)

    def loss():
        return float(np.sum(net(x) * G))

    net.forward(x)
    grad_x = net.backward(G)
    name = f"MLP ({atoms} atoms{', noisy' * noisy}{f', dueling {kind}' * bool(dueling)})"
    for i, (param, grad) in enumerate(zip(net.params, net.grads)):
        error = relative_error(grad, numerical_gradient(loss, param))
        record_grad_error(f"{name} dL/dθ", error)
        assert error < TOL, (i, error)
    assert relative_error(grad_x, numerical_gradient(loss, x)) < TOL
    twin = net.clone()  # the same θ; the copy starts without noise, on its mean weights
    net.mean_weights()
    assert np.array_equal(twin(x), net(x)) and twin.architecture == net.architecture


def test_mlp_params_are_views_of_the_flat_vector():
    net = MLP([3, 4, 2], seed=0)
    net.params[0][0, 0] = 123.0
    assert net.flat_params[0] == 123.0
    net.flat_grads[:] = 7.0
    assert all(np.all(g == 7.0) for g in net.grads)
    assert [p.shape for p in net.params] == [(3, 4), (4,), (4, 2), (2,)]
    assert net.num_params == 3 * 4 + 4 + 4 * 2 + 2


def test_mlp_predict_does_not_disturb_the_backward_of_the_last_forward(rng):
    net = MLP([3, 6, 2], seed=1, dtype=np.float64)
    x, other = rng.normal(size=(4, 3)), rng.normal(size=(9, 3))
    G = rng.normal(size=(4, 2))
    net.forward(x)
    expected = [g.copy() for g in (net.backward(G), *net.grads)]
    net.forward(x)
    net(other)  # must not overwrite the caches of forward(x)
    got = [net.backward(G), *net.grads]
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(net(x), net.forward(x))


def test_mlp_backward_without_input_gradient_gives_the_same_parameter_gradients(rng):
    net = MLP([3, 6, 5, 2], seed=2, dtype=np.float64)
    x, G = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    net.forward(x)
    assert net.backward(G).shape == (4, 3)
    expected = [g.copy() for g in net.grads]
    net.forward(x)
    assert net.backward(G, input_grad=False) is None
    for a, b in zip(expected, net.grads):
        np.testing.assert_array_equal(a, b)


def test_dueling_mlp_has_one_more_output_unit_and_clones_with_its_head():
    plain, dueling = MLP([3, 4, 2], seed=0), MLP([3, 4, 2], seed=0, dueling=True)
    assert dueling.num_params == plain.num_params + 4 + 1  # one more column of W₂, one more bias
    assert dueling(np.ones((5, 3))).shape == (5, 2)
    twin = dueling.clone()
    assert twin.dueling
    np.testing.assert_array_equal(twin(np.ones((5, 3))), dueling(np.ones((5, 3))))
    with pytest.raises(ValueError, match="dueling"):
        hard_update(plain, dueling)
    with pytest.raises(TypeError, match="dueling"):
        MLP([3, 4, 2], dueling="yes")


def test_mlp_initialisation_is_seeded_and_scaled():
    a, b, c = MLP([64, 256, 4], seed=3), MLP([64, 256, 4], seed=3), MLP([64, 256, 4], seed=4)
    np.testing.assert_array_equal(a.flat_params, b.flat_params)
    assert not np.array_equal(a.flat_params, c.flat_params)
    assert abs(a.params[0].std() - np.sqrt(2 / 64)) < 0.01  # He: N(0, 2/D_in) before a ReLU
    assert abs(a.params[2].std() - np.sqrt(1 / 256)) < 0.01  # LeCun: N(0, 1/D_in) at the output
    assert np.all(a.params[1] == 0) and np.all(a.params[3] == 0)


def test_mlp_keeps_its_dtype():
    net = MLP([4, 8, 2], seed=0, dtype=np.float32)
    x = np.ones((3, 4), np.float32)
    q = net.forward(x)
    assert q.dtype == np.float32
    net.backward(np.ones_like(q))
    assert all(g.dtype == np.float32 for g in net.grads)


def test_mlp_rejects_bad_sizes_and_dtype():
    with pytest.raises(ValueError, match="sizes"):
        MLP([4])
    with pytest.raises(ValueError, match="sizes"):
        MLP([4, 0, 2])
    with pytest.raises(TypeError, match="dtype"):
        MLP([4, 2], dtype=np.int32)


def test_clone_and_hard_update_copy_values_not_references():
    source = MLP([3, 5, 2], seed=0)
    twin = source.clone()
    target = MLP([3, 5, 2], seed=99)
    hard_update(target, source)
    np.testing.assert_array_equal(target.flat_params, source.flat_params)
    np.testing.assert_array_equal(twin.flat_params, source.flat_params)
    before = source.flat_params.copy()
    source.flat_params += 1.0  # changing the source afterwards leaves the copies alone
    np.testing.assert_array_equal(target.flat_params, before)
    np.testing.assert_array_equal(twin.flat_params, before)
    assert not np.shares_memory(twin.flat_params, source.flat_params)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_soft_update_is_exactly_the_polyak_blend(dtype):
    source, target = MLP([3, 5, 2], seed=0, dtype=dtype), MLP([3, 5, 2], seed=1, dtype=dtype)
    tau = 0.01
    expected = (1 - tau) * target.flat_params + tau * source.flat_params
    soft_update(target, source, tau)
    np.testing.assert_array_equal(target.flat_params, expected)
    soft_update(target, source, 1.0)
    np.testing.assert_array_equal(target.flat_params, source.flat_params)


def test_updates_reject_mismatched_networks_and_bad_tau():
    a, b = MLP([3, 5, 2]), MLP([3, 6, 2])
    with pytest.raises(ValueError, match="same architecture"):
        hard_update(a, b)
    with pytest.raises(ValueError, match="tau"):
        soft_update(a, a.clone(), 1.5)


def test_mlp_learns_xor():
    """A 2-8-1 network fits XOR by full-batch Adam on squared error."""
    from minidqn.nn.optim import Adam

    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    net = MLP([2, 8, 1], seed=0, dtype=np.float64)
    opt = Adam(net.params, lr=0.05)
    for _ in range(500):
        out = net.forward(x)
        net.backward(2 * (out - y) / len(x))  # d/d(out) of mean squared error
        opt.step(net.grads)
    assert np.mean((net(x) - y) ** 2) < 1e-3
