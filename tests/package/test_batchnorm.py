"""BatchNorm: finite differences, the node-by-node graph, modes, running averages,
float32, training inside Sequential, and PyTorch where it is installed."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import GRAD_TOL, fd, rel_err

import course_lib as cl

LAYOUTS = [(7, 3), (4, 3, 2, 5)]          # (N, C) and (N, C, H, W)


def _layer(C, seed=0, **kw):
    rng = np.random.default_rng(seed)
    bn = cl.BatchNorm(C, **kw)
    bn.params["gamma"][...] = rng.normal(1.0, 0.5, C)
    bn.params["beta"][...] = rng.normal(0.0, 0.5, C)
    return bn


def _axes(ndim):
    return (0,) if ndim == 2 else (0, 2, 3)


def _by_hand(X, gamma, beta, eps):
    """Per-channel statistics computed straight from the definition (loops)."""
    C = X.shape[1]
    Y = np.empty_like(X)
    for c in range(C):
        v = X[:, c].ravel()
        mu = sum(v) / v.size
        var = sum((x - mu) ** 2 for x in v) / v.size
        Y[:, c] = gamma[c] * (X[:, c] - mu) / np.sqrt(var + eps) + beta[c]
    return Y


@pytest.mark.parametrize("shape", LAYOUTS, ids=["NC", "NCHW"])
def test_training_forward_matches_the_definition(shape):
    X = np.random.default_rng(1).normal(3.0, 2.0, shape)
    bn = _layer(shape[1])
    Y = bn.forward(X)
    np.testing.assert_allclose(Y, _by_hand(X, bn.params["gamma"], bn.params["beta"],
                                           bn.eps), rtol=1e-12, atol=1e-12)
    # with gamma = 1, beta = 0 every channel has mean 0 and variance ~1
    Z = cl.BatchNorm(shape[1]).forward(X)
    np.testing.assert_allclose(Z.mean(axis=_axes(len(shape))), 0, atol=1e-12)
    np.testing.assert_allclose(Z.var(axis=_axes(len(shape))), 1, atol=1e-4)


@pytest.mark.parametrize("shape", LAYOUTS, ids=["NC", "NCHW"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_backward_matches_finite_differences(shape, training):
    rng = np.random.default_rng(2)
    X = rng.normal(1.0, 2.0, shape)
    G = rng.normal(size=shape)
    bn = _layer(shape[1])
    bn.running_mean[...] = rng.normal(size=shape[1])
    bn.running_var[...] = rng.uniform(0.5, 2.0, shape[1])
    bn.train() if training else bn.eval()
    running = (bn.running_mean.copy(), bn.running_var.copy())

    def loss(X_=None, gamma=None, beta=None):
        if gamma is not None:
            bn.params["gamma"][...] = gamma
        if beta is not None:
            bn.params["beta"][...] = beta
        bn.running_mean[...], bn.running_var[...] = running
        return float(np.sum(G * bn.forward(X if X_ is None else X_)))

    g0, b0 = bn.params["gamma"].copy(), bn.params["beta"].copy()
    num_dX = fd(lambda x: loss(X_=x), X)
    num_dg = fd(lambda g: loss(gamma=g), g0)
    bn.params["gamma"][...] = g0
    num_db = fd(lambda b: loss(beta=b), b0)
    bn.params["beta"][...] = b0
    loss()
    dX = bn.backward(G)
    assert dX.shape == X.shape
    assert rel_err(dX, num_dX) < GRAD_TOL
    assert rel_err(bn.grads["gamma"], num_dg) < GRAD_TOL
    assert rel_err(bn.grads["beta"], num_db) < GRAD_TOL


def _graph_backward(dY, X, gamma, eps):
    """The backward node by node: mean, centred, variance, inv_std, X_hat, Y."""
    M = X.shape[0]
    mu = X.mean(0)
    xc = X - mu
    var = (xc ** 2).mean(0)
    inv = (var + eps) ** -0.5
    xhat = xc * inv
    dgamma, dbeta = (dY * xhat).sum(0), dY.sum(0)
    dxhat = dY * gamma
    dinv = (dxhat * xc).sum(0)
    dvar = dinv * -0.5 * (var + eps) ** -1.5
    dxc = dxhat * inv + dvar * 2 * xc / M
    dmu = -dxc.sum(0)
    return dxc + dmu / M, dgamma, dbeta


def test_compact_form_equals_the_node_by_node_graph():
    rng = np.random.default_rng(3)
    X, dY = rng.normal(size=(16, 5)), rng.normal(size=(16, 5))
    gamma = rng.normal(size=5)
    _, X_hat, _, _, inv_std = cl.batchnorm.batch_norm_forward(X, gamma, 0 * gamma,
                                                               1e-5)
    compact = cl.batchnorm.batch_norm_backward(dY, X_hat, gamma, inv_std)
    for a, b in zip(compact, _graph_backward(dY, X, gamma, 1e-5)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_gradient_with_respect_to_X_sums_to_zero_per_feature():
    # the output is invariant to shifting a feature: dX sums to 0 over the batch
    rng = np.random.default_rng(4)
    bn = _layer(4)
    bn.forward(rng.normal(size=(10, 4)))
    dX = bn.backward(rng.normal(size=(10, 4)))
    np.testing.assert_allclose(dX.sum(axis=0), 0, atol=1e-12)


def test_running_averages_follow_the_update_rule():
    rng = np.random.default_rng(5)
    bn = cl.BatchNorm(3, momentum=0.8)
    mean, var = np.zeros(3), np.ones(3)
    for _ in range(4):
        X = rng.normal(2.0, 3.0, (6, 3))
        bn.forward(X)
        mean = 0.8 * mean + 0.2 * X.mean(0)
        var = 0.8 * var + 0.2 * X.var(0, ddof=1)          # unbiased, as PyTorch
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var, var, rtol=1e-12)


def test_eval_uses_running_averages_and_changes_nothing():
    rng = np.random.default_rng(6)
    bn = _layer(3)
    for _ in range(50):
        bn.forward(rng.normal(1.0, 2.0, (32, 3)))
    bn.eval()
    before = bn.running_mean.copy(), bn.running_var.copy()
    X = rng.normal(1.0, 2.0, (5, 3))
    Y = bn.forward(X)
    expected = (bn.params["gamma"] * (X - before[0]) / np.sqrt(before[1] + bn.eps)
                + bn.params["beta"])
    np.testing.assert_allclose(Y, expected, rtol=1e-12)
    np.testing.assert_array_equal(bn.running_mean, before[0])
    np.testing.assert_array_equal(bn.running_var, before[1])
    # one sample at a time gives the same answer as the batch (no batch coupling)
    one = np.concatenate([bn.forward(X[i:i + 1]) for i in range(5)])
    np.testing.assert_allclose(one, Y, rtol=1e-12)
    # the running averages approach the data's mean and variance
    np.testing.assert_allclose(bn.running_mean, 1.0, atol=0.5)
    np.testing.assert_allclose(bn.running_var, 4.0, rtol=0.3)


def test_training_output_depends_on_the_batch_eval_output_does_not():
    rng = np.random.default_rng(7)
    bn = cl.BatchNorm(2)
    X = rng.normal(size=(8, 2))
    first_alone = bn.forward(X)[0]
    other = bn.forward(np.vstack([X[:1], rng.normal(5.0, 1.0, (7, 2))]))[0]
    assert not np.allclose(first_alone, other)
    bn.eval()
    np.testing.assert_array_equal(bn.forward(X)[:1], bn.forward(X[:1]))


def test_float32_in_float32_out_and_close_to_float64():
    rng = np.random.default_rng(8)
    X = rng.normal(size=(64, 6))
    G = rng.normal(size=(64, 6))
    b64, b32 = cl.BatchNorm(6), cl.BatchNorm(6, dtype=np.float32)
    Y64, Y32 = b64.forward(X), b32.forward(X.astype(np.float32))
    assert Y32.dtype == np.float32
    dX32 = b32.backward(G.astype(np.float32))
    assert dX32.dtype == np.float32 and b32.grads["gamma"].dtype == np.float32
    np.testing.assert_allclose(Y32, Y64, atol=1e-5)
    np.testing.assert_allclose(dX32, b64.backward(G), atol=1e-4)
    b32.eval()
    assert b32.forward(X[:3].astype(np.float32)).dtype == np.float32


def test_constant_feature_stays_finite():
    bn = cl.BatchNorm(2)
    X = np.column_stack([np.full(5, 3.0), np.arange(5.0)])
    Y = bn.forward(X)
    dX = bn.backward(np.ones_like(X))
    assert np.all(np.isfinite(Y)) and np.all(np.isfinite(dX))
    np.testing.assert_allclose(Y[:, 0], 0.0)


def test_errors_name_the_argument_and_shapes():
    bn = cl.BatchNorm(3)
    with pytest.raises(cl.ShapeError, match=r"\(N, 3\) or \(N, 3, H, W\), got "
                                            r"\(4, 2\)"):
        bn.forward(np.ones((4, 2)))
    with pytest.raises(ValueError, match="more than one value"):
        bn.forward(np.ones((1, 3)))
    bn.forward(np.random.default_rng(0).normal(size=(4, 3)))
    with pytest.raises(cl.ShapeError, match="dY must have shape"):
        bn.backward(np.ones((4, 2)))
    with pytest.raises(RuntimeError, match="before forward"):
        cl.BatchNorm(3).backward(np.ones((4, 3)))
    with pytest.raises(ValueError, match="momentum"):
        cl.BatchNorm(3, momentum=1.0)


def test_inside_sequential_gradient_check_and_fit():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(12, 3))
    y = (X[:, :1] * X[:, 1:2] > 0).astype(float)
    model = cl.Sequential([cl.Dense(3, 5, seed=0), cl.BatchNorm(5), cl.Tanh(),
                           cl.Dense(5, 1, seed=1), cl.Sigmoid()])
    assert set(model.params) == {"0.W", "0.b", "1.gamma", "1.beta", "3.W", "3.b"}
    errors = cl.gradient_check(model, "bce", X, y)
    assert max(errors.values()) < 1e-6, errors
    Xm, ym = cl.datasets.moons(200, noise=0.1, seed=0)
    net = cl.Sequential([cl.Dense(2, 16, seed=0), cl.BatchNorm(16), cl.ReLU(),
                         cl.Dense(16, 1, seed=1), cl.Sigmoid()])
    h = net.fit(Xm, ym, loss="bce", optimizer=cl.Adam(0.02), epochs=60,
                batch_size=32, seed=0, progress=False)
    assert h.loss[-1] < 0.5 * h.loss[0]
    assert net.training                      # fit leaves the mode as it found it
    accuracy = float(np.mean(net.predict(Xm) == ym))     # predict: eval mode
    assert accuracy > 0.9
    assert not np.allclose(net.layers[1].running_mean, 0)


# ---------------------------------------------------------------- PyTorch

@pytest.mark.parametrize("shape", LAYOUTS, ids=["1d", "2d"])
def test_agrees_with_pytorch(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    C = shape[1]
    ours = _layer(C, momentum=0.9)
    ref = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(
        C, momentum=0.1, eps=1e-5).double()
    with torch.no_grad():
        ref.weight.copy_(torch.from_numpy(ours.params["gamma"]))
        ref.bias.copy_(torch.from_numpy(ours.params["beta"]))
    for _ in range(3):                                     # training steps
        X, G = rng.normal(1, 2, shape), rng.normal(size=shape)
        Xt = torch.from_numpy(X).requires_grad_(True)
        ref.weight.grad = ref.bias.grad = None
        out = ref(Xt)
        out.backward(torch.from_numpy(G))
        np.testing.assert_allclose(ours.forward(X), out.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(ours.backward(G), Xt.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(ours.grads["gamma"], ref.weight.grad.numpy(),
                                   atol=1e-10)
        np.testing.assert_allclose(ours.grads["beta"], ref.bias.grad.numpy(),
                                   atol=1e-10)
    np.testing.assert_allclose(ours.running_mean, ref.running_mean.numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(ours.running_var, ref.running_var.numpy(), rtol=1e-12)
    ours.eval()
    ref.eval()
    X = rng.normal(size=shape)
    np.testing.assert_allclose(ours.forward(X), ref(torch.from_numpy(X))
                               .detach().numpy(), atol=1e-12)
