"""Conv2D, MaxPool2D, Flatten: the loops oracle, finite differences, PyTorch where
installed, stride and padding cases, the layer contract and fit on images."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import GRAD_TOL, fd, rel_err

import course_lib as cl
from course_lib import conv_reference as ref

#: (N, C, H, W, F, k, stride, padding); the last batch spans several of the
#: 32-sample blocks in which the engine moves the batch axis
CASES = [(2, 3, 7, 6, 4, 3, 1, 0), (2, 2, 8, 8, 3, 3, 2, 1), (1, 1, 5, 5, 2, 2, 3, 2),
         (3, 1, 8, 8, 2, 1, 1, 0), (1, 2, 6, 9, 1, 5, 1, 2), (2, 1, 4, 4, 3, 4, 1, 0),
         (70, 2, 5, 6, 3, 3, 2, 1)]


def _layer(C, F, k, s, P, seed=0):
    layer = cl.Conv2D(C, F, k, stride=s, padding=P, seed=seed)
    layer.params["b"][...] = np.random.default_rng(seed + 7).normal(size=F)
    return layer


def test_conv_by_hand():
    """A 3x3 image, a 2x2 kernel, no flip: each output is a dot product."""
    X = np.arange(9.0).reshape(1, 1, 3, 3)
    layer = cl.Conv2D(1, 1, 2)
    layer.params["W"][...] = np.array([[1.0, 2.0], [3.0, 4.0]])
    layer.params["b"][...] = 1.0
    # top-left patch [[0, 1], [3, 4]]: 0 + 2 + 9 + 16 + 1 = 28
    np.testing.assert_allclose(layer.forward(X)[0, 0], [[28.0, 38.0], [58.0, 68.0]])


@pytest.mark.parametrize("case", CASES)
def test_im2col_forward_and_backward_equal_the_loops(case):
    N, C, H, W, F, k, s, P = case
    rng = np.random.default_rng(sum(case))
    layer = _layer(C, F, k, s, P)
    X = rng.normal(size=(N, C, H, W))
    Y = layer.forward(X)
    Ho, Wo = ref.output_size(H, k, s, P), ref.output_size(W, k, s, P)
    assert Y.shape == (N, F, Ho, Wo)
    Wk, b = layer.params["W"], layer.params["b"]
    np.testing.assert_allclose(Y, ref.conv2d_forward_loops(X, Wk, b, s, P),
                               atol=1e-12)
    dY = rng.normal(size=Y.shape)
    dX = layer.backward(dY)
    want = ref.conv2d_backward_loops(dY, X, Wk, s, P)
    for got, expected in zip((dX, layer.grads["W"], layer.grads["b"]), want):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-12)


@pytest.mark.parametrize("case", CASES[:3])
def test_conv_backward_matches_finite_differences(case):
    N, C, H, W, F, k, s, P = case
    rng = np.random.default_rng(3)
    layer = _layer(C, F, k, s, P)
    X = rng.normal(size=(N, C, H, W))
    G = rng.normal(size=layer.forward(X).shape)
    dX = layer.backward(G)
    assert rel_err(dX, fd(lambda x: float(np.sum(G * layer.forward(x))),
                                    X)) < GRAD_TOL
    for name in ("W", "b"):
        p, analytic = layer.params[name], layer.grads[name].copy()
        original = p.copy()

        def f(value, p=p):
            p[...] = value
            return float(np.sum(G * layer.forward(X)))

        assert rel_err(analytic, fd(f, original)) < GRAD_TOL
        p[...] = original


def test_loops_oracle_matches_finite_differences():
    """The oracle itself is checked, so that it cannot share a bug with im2col."""
    rng = np.random.default_rng(5)
    X, Wk, b = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(2, 2, 3, 3)), \
        rng.normal(size=2)
    G = rng.normal(size=(1, 2, 3, 3))
    dX, dW, db = ref.conv2d_backward_loops(G, X, Wk, 2, 1)
    fx = fd(lambda x: float(np.sum(G * ref.conv2d_forward_loops(
        x, Wk, b, 2, 1))), X)
    fw = fd(lambda w: float(np.sum(G * ref.conv2d_forward_loops(
        X, w, b, 2, 1))), Wk)
    assert rel_err(dX, fx) < GRAD_TOL and rel_err(dW, fw) < GRAD_TOL
    np.testing.assert_allclose(db, G.sum(axis=(0, 2, 3)))


def test_weight_sharing_sums_the_gradient_over_positions():
    """dW is the sum of the per-position contributions dY[i, j] * patch(i, j)."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(1, 1, 5, 5))
    layer = _layer(1, 1, 3, 1, 0)
    dY = rng.normal(size=layer.forward(X).shape)
    layer.backward(dY)
    parts = [dY[0, 0, i, j] * X[0, 0, i:i + 3, j:j + 3]
             for i in range(3) for j in range(3)]
    np.testing.assert_allclose(layer.grads["W"][0, 0], np.sum(parts, axis=0))
    np.testing.assert_allclose(layer.grads["b"], [dY.sum()])


def test_conv_gradients_overwritten_float32_and_errors():
    rng = np.random.default_rng(2)
    layer = cl.Conv2D(2, 3, 3, padding=1, seed=0, dtype=np.float32)
    X = rng.normal(size=(2, 2, 6, 6)).astype(np.float32)
    Y = layer.forward(X)
    assert Y.dtype == np.float32 and Y.shape == (2, 3, 6, 6)
    dY = np.ones_like(Y)
    layer.backward(dY)
    first = layer.grads["W"].copy()
    ref_W = layer.grads["W"]
    layer.backward(dY)
    assert layer.grads["W"] is ref_W                     # same array, updated in place
    np.testing.assert_allclose(layer.grads["W"], first)  # overwritten, not doubled
    assert layer.grads["W"].dtype == np.float32
    dX = layer.backward(dY)
    layer.grads["W"][...] = 0.0
    assert layer.backward_params(dY) is None             # dW and db, no dX
    layer.backward_params(dY)                            # overwritten again
    assert layer.grads["W"] is ref_W
    np.testing.assert_allclose(layer.grads["W"], first)
    assert dX.shape == X.shape and dX.dtype == np.float32
    with pytest.raises(cl.ShapeError, match=r"X must have shape \(N, 2, H, W\)"):
        layer.forward(X[:, :1])
    with pytest.raises(cl.ShapeError, match="dY must have shape"):
        layer.backward(dY[:, :2])
    with pytest.raises(ValueError, match="kernel_size"):
        cl.Conv2D(1, 1, 0)


def test_he_init_uses_the_fan_in_of_the_kernel():
    W = cl.Conv2D(4, 64, 3, seed=0).params["W"]
    assert W.shape == (64, 4, 3, 3)
    assert abs(W.std() - np.sqrt(2 / 36)) < 0.02
    np.testing.assert_array_equal(W, cl.Conv2D(4, 64, 3, seed=0).params["W"])


# ---------------------------------------------------------------- pooling


@pytest.mark.parametrize("size, stride", [(2, None), (3, 2), (2, 1), (3, 3)])
def test_maxpool_equals_loops(size, stride):
    rng = np.random.default_rng(size * 10 + (stride or 0))
    X = rng.normal(size=(2, 3, 7, 8))
    pool = cl.MaxPool2D(size, stride)
    Y = pool.forward(X)
    np.testing.assert_array_equal(Y, ref.maxpool2d_forward_loops(X, size, stride))
    dY = rng.normal(size=Y.shape)
    np.testing.assert_allclose(pool.backward(dY),
                               ref.maxpool2d_backward_loops(dY, X, size, stride),
                               atol=1e-15)


def test_maxpool_routes_to_the_maximum_only_and_matches_fd():
    X = np.array([[[[1.0, 5.0], [3.0, 2.0]]]])
    pool = cl.MaxPool2D(2)
    assert pool.forward(X).item() == 5.0
    np.testing.assert_array_equal(pool.backward(np.array([[[[2.0]]]])),
                                  [[[[0.0, 2.0], [0.0, 0.0]]]])
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2, 2, 6, 6))
    G = rng.normal(size=pool.forward(X).shape)
    dX = pool.backward(G)
    assert rel_err(dX, fd(lambda x: float(np.sum(G * pool.forward(x))),
                                    X)) < GRAD_TOL


def test_flatten_round_trip():
    X = np.arange(24.0).reshape(2, 3, 2, 2)
    flat = cl.Flatten()
    out = flat.forward(X)
    assert out.shape == (2, 12)
    np.testing.assert_array_equal(out[1], X[1].ravel())
    np.testing.assert_array_equal(flat.backward(out), X)


# ---------------------------------------------------------------- in a network


def _cnn(seed=0):
    return cl.Sequential([cl.Conv2D(1, 4, 3, padding=1, seed=seed), cl.ReLU(),
                          cl.MaxPool2D(2), cl.Flatten(), cl.Dense(16, 3, seed=seed)])


def test_cnn_gradient_check_and_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 1, 4, 4))
    y = rng.integers(0, 3, size=12)
    model = _cnn()
    assert model.n_in is None and model.input_ndim == 4
    errors = cl.gradient_check(model, "cross_entropy", X, y)
    assert set(errors) == {"0.W", "0.b", "4.W", "4.b"}
    assert max(errors.values()) < GRAD_TOL
    history = model.fit(X, y, loss="cross_entropy", optimizer=cl.Adam(0.05),
                        epochs=60, progress=False, seed=0)
    assert history.loss[-1] < 0.2 * history.loss[0]
    assert model.predict(X).shape == (12,)
    with pytest.raises(cl.ShapeError, match=r"4-D of shape \(N, C, H, W\)"):
        model.fit(X.reshape(12, 16), y, loss="cross_entropy", epochs=1,
                  progress=False)


def test_fit_skips_dX_of_a_first_conv_layer():
    model = _cnn()
    X = np.random.default_rng(1).normal(size=(3, 1, 4, 4))
    dY = np.ones((3, 3))
    model.forward(X)
    assert model.backward_params(dY) is None
    g = model.layers[0].grads["W"].copy()
    model.forward(X)
    assert model.backward(dY).shape == X.shape
    np.testing.assert_allclose(model.layers[0].grads["W"], g)


# ---------------------------------------------------------------- PyTorch


@pytest.mark.parametrize("case", CASES[:3])
def test_conv_and_pool_match_pytorch(case):
    torch = pytest.importorskip("torch")
    F_ = torch.nn.functional
    N, C, H, W, F, k, s, P = case
    rng = np.random.default_rng(9)
    layer = _layer(C, F, k, s, P)
    X = rng.normal(size=(N, C, H, W))
    Y = layer.forward(X)
    dY = rng.normal(size=Y.shape)
    dX = layer.backward(dY)
    Xt = torch.tensor(X, requires_grad=True)
    Wt = torch.tensor(layer.params["W"], requires_grad=True)
    bt = torch.tensor(layer.params["b"], requires_grad=True)
    Yt = F_.conv2d(Xt, Wt, bt, stride=s, padding=P)
    Yt.backward(torch.tensor(dY))
    np.testing.assert_allclose(Y, Yt.detach().numpy(), atol=1e-12)
    for got, t in ((dX, Xt), (layer.grads["W"], Wt), (layer.grads["b"], bt)):
        np.testing.assert_allclose(got, t.grad.numpy(), atol=1e-12)
    pool = cl.MaxPool2D(2, 1)
    Xt = torch.tensor(X, requires_grad=True)
    Pt = F_.max_pool2d(Xt, 2, 1)
    G = rng.normal(size=tuple(Pt.shape))
    Pt.backward(torch.tensor(G))
    np.testing.assert_array_equal(pool.forward(X), Pt.detach().numpy())
    np.testing.assert_allclose(pool.backward(G), Xt.grad.numpy(), atol=1e-15)
