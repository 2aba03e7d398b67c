"""RNN, LSTM and LastStep: BPTT against finite differences and PyTorch, truncated
BPTT against an unrolled oracle, the layer contract and fit on sequences."""

from __future__ import annotations

import numpy as np
import pytest
from oracles import GRAD_TOL, fd, rel_err

import course_lib as cl

LAYERS = [cl.RNN, cl.LSTM]


def _data(seed=0, N=3, T=6, D=2, H=4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, T, D)), rng.normal(size=(N, T, H))


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_bptt_matches_finite_differences(cls):
    X, G = _data()
    layer = cls(2, 4, seed=1)
    layer.forward(X)
    dX = layer.backward(G)
    assert dX.shape == X.shape

    def loss(x=None):
        return float(np.sum(G * layer.forward(X if x is None else x)))

    assert rel_err(dX, fd(loss, X)) < GRAD_TOL
    for name in ("Wx", "Wh", "b"):
        p, analytic = layer.params[name], layer.grads[name].copy()
        original = p.copy()

        def f(value, p=p):
            p[...] = value
            return loss()

        assert rel_err(analytic, fd(f, original)) < GRAD_TOL, name
        p[...] = original


def _rnn_unrolled(X, Wx, Wh, b):
    """Forward of the RNN written step by step from the formula (oracle)."""
    h, out = np.zeros((X.shape[0], Wh.shape[0])), []
    for t in range(X.shape[1]):
        h = np.tanh(X[:, t] @ Wx + h @ Wh + b)
        out.append(h)
    return np.stack(out, axis=1)


def test_rnn_forward_is_the_recurrence():
    X, _ = _data(1)
    layer = cl.RNN(2, 4, seed=3)
    np.testing.assert_allclose(layer.forward(X),
                               _rnn_unrolled(X, **layer.params), atol=1e-14)


def test_truncated_bptt_is_the_gradient_with_the_chunk_start_states_held_fixed():
    """Oracle: finite differences of a forward pass in which every chunk of k steps
    starts from the state computed with the *unperturbed* weights (a stop-gradient
    at each chunk boundary), written from the formula."""
    X, G = _data(2, T=7)
    k = 3
    layer = cl.RNN(2, 4, seed=4, truncate=k)
    base = {n: v.copy() for n, v in layer.params.items()}
    H_base = _rnn_unrolled(X, **base)
    layer.forward(X)
    layer.backward(G)

    def stopped(name, value):
        p = dict(base, **{name: value})
        out = []
        for t in range(X.shape[1]):
            h = (np.zeros_like(H_base[:, 0]) if t == 0 else
                 H_base[:, t - 1] if t % k == 0 else out[-1])
            out.append(np.tanh(X[:, t] @ p["Wx"] + h @ p["Wh"] + p["b"]))
        return float(np.sum(G * np.stack(out, axis=1)))

    for name in ("Wx", "Wh", "b"):
        numeric = fd(lambda v, name=name: stopped(name, v), base[name])
        assert rel_err(layer.grads[name], numeric) < GRAD_TOL, name
    full = cl.RNN(2, 4, seed=4)
    full.forward(X)
    full.backward(G)
    assert rel_err(layer.grads["Wh"], full.grads["Wh"]) > 1e-3


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_truncate_longer_than_the_sequence_is_full_bptt(cls):
    X, G = _data(5, T=6)
    grads = []
    for truncate in (None, 6, 3):
        layer = cls(2, 4, seed=1, truncate=truncate)
        layer.forward(X)
        layer.backward(G)
        grads.append(layer.grads["Wh"].copy())
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-14)
    assert not np.allclose(grads[0], grads[2])


def test_truncate_one_keeps_only_the_direct_path():
    """With truncate=1 no gradient crosses a step: dWh = sum_t h_{t-1}^T dz_t with
    dz_t = dH_t (1 - h_t^2) computed from dH_t alone."""
    X, G = _data(3)
    layer = cl.RNN(2, 4, seed=5, truncate=1)
    H = layer.forward(X)
    layer.backward(G)
    dZ = G * (1 - H ** 2)
    H_prev = np.concatenate([np.zeros_like(H[:, :1]), H[:, :-1]], axis=1)
    np.testing.assert_allclose(layer.grads["Wh"],
                               np.einsum("nti,ntj->ij", H_prev, dZ), atol=1e-12)
    np.testing.assert_allclose(layer.step_grad_norms,
                               np.linalg.norm(G, axis=(0, 2)), atol=1e-12)


def test_step_grad_norms_vanish_for_small_recurrent_weights():
    X = np.random.default_rng(0).normal(size=(4, 30, 2))
    layer = cl.RNN(2, 8, seed=0)
    layer.params["Wh"] *= 0.1
    H = layer.forward(X)
    dH = np.zeros_like(H)
    dH[:, -1] = 1.0
    layer.backward(dH)
    norms = layer.step_grad_norms
    assert norms.shape == (30,)
    assert norms[0] < 1e-10 * norms[-1]


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_contract_float32_overwrite_and_errors(cls):
    X, G = _data(4)
    layer = cls(2, 4, seed=0, dtype=np.float32)
    H = layer.forward(X.astype(np.float32))
    assert H.dtype == np.float32 and H.shape == (3, 6, 4)
    layer.backward(G.astype(np.float32))
    first = {k: g.copy() for k, g in layer.grads.items()}
    same = layer.grads["Wh"]
    assert layer.backward(G.astype(np.float32)).dtype == np.float32
    assert layer.grads["Wh"] is same
    for k in first:
        np.testing.assert_allclose(layer.grads[k], first[k], rtol=1e-6)
    with pytest.raises(cl.ShapeError, match=r"X must have shape \(N, T, 2\)"):
        layer.forward(X[:, :, :1])
    with pytest.raises(cl.ShapeError, match="dY must have shape"):
        layer.backward(G[:, :2])
    with pytest.raises(ValueError, match="truncate"):
        cls(2, 4, truncate=0)


def test_lstm_forget_bias_and_shapes():
    layer = cl.LSTM(3, 5, seed=0)
    assert layer.params["Wx"].shape == (3, 20) and layer.params["Wh"].shape == (5, 20)
    b = layer.params["b"]
    assert np.all(b[5:10] > 0.5) and np.all(np.abs(b[:5]) <= 1 / np.sqrt(5))


def test_last_step_and_fit_on_a_memory_task():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4, 1))
    y = (X[:, 0] > 0).astype(float)
    model = cl.Sequential([cl.LSTM(1, 6, seed=0), cl.LastStep(),
                           cl.Dense(6, 1, seed=1)])
    assert model.input_ndim == 3 and model.n_in is None
    loss = cl.BinaryCrossEntropy(from_logits=True)
    errors = cl.gradient_check(model, loss, X[:8], y[:8])
    assert max(errors.values()) < GRAD_TOL
    model.fit(X, y, loss=loss, optimizer=cl.Adam(0.02), epochs=30, batch_size=50,
              seed=0, progress=False)
    assert np.mean(model.predict(X) == y) > 0.95
    last = cl.LastStep()
    H = rng.normal(size=(2, 3, 4))
    np.testing.assert_array_equal(last.forward(H), H[:, -1])
    dX = last.backward(np.ones((2, 4)))
    assert dX[:, :-1].sum() == 0 and dX[:, -1].sum() == 8


@pytest.mark.parametrize("cls", LAYERS, ids=lambda c: c.__name__)
def test_matches_pytorch(cls):
    torch = pytest.importorskip("torch")
    X, G = _data(7, N=2, T=5, D=3, H=4)
    layer = cls(3, 4, seed=2)
    H = layer.forward(X)
    dX = layer.backward(G)
    net = (torch.nn.RNN if cls is cl.RNN else torch.nn.LSTM)(
        3, 4, batch_first=True).double()
    p = layer.params
    with torch.no_grad():
        net.weight_ih_l0.copy_(torch.tensor(p["Wx"].T))
        net.weight_hh_l0.copy_(torch.tensor(p["Wh"].T))
        net.bias_ih_l0.copy_(torch.tensor(p["b"]))
        net.bias_hh_l0.zero_()
    Xt = torch.tensor(X, requires_grad=True)
    Ht, _ = net(Xt)
    Ht.backward(torch.tensor(G))
    np.testing.assert_allclose(H, Ht.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.grads["Wx"], net.weight_ih_l0.grad.numpy().T,
                               atol=1e-12)
    np.testing.assert_allclose(layer.grads["Wh"], net.weight_hh_l0.grad.numpy().T,
                               atol=1e-12)
    np.testing.assert_allclose(layer.grads["b"], net.bias_ih_l0.grad.numpy(),
                               atol=1e-12)
