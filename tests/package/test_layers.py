"""Dense and Dropout layers: gradients, initialisation, errors, the layer contract."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracles import GRAD_TOL, fd, rel_err
from properties import PROPERTY

import course_lib as cl

# ---------------------------------------------------------------- Dense forward

def test_dense_forward_is_XW_plus_b():
    layer = cl.Dense(3, 2, seed=0)
    W = np.array([[1.0, -1.0], [2.0, 0.5], [0.0, 3.0]])
    b = np.array([0.5, -2.0])
    layer.params["W"][...] = W
    layer.params["b"][...] = b
    X = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]])
    # by hand: row 1 = [1 + 4 + 0 + .5, -1 + 1 + 9 - 2], row 2 = [0 - 2 + 0 + .5, ...]
    np.testing.assert_allclose(layer.forward(X), [[5.5, 7.0], [-1.5, 0.5]])


# ---------------------------------------------------------------- Dense gradients

@pytest.mark.parametrize("n_in, n_out, N", [(1, 1, 1), (2, 4, 4), (5, 3, 7),
                                            (8, 10, 2)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dense_backward_matches_finite_differences(n_in, n_out, N, seed):
    rng = np.random.default_rng(seed)
    layer = cl.Dense(n_in, n_out, init="normal", scale=1.0, seed=seed)
    layer.params["b"][...] = rng.normal(size=n_out)
    X = rng.normal(size=(N, n_in))
    G = rng.normal(size=(N, n_out))                     # upstream dZ

    def loss_of(forward_input=None):
        return float(np.sum(G * layer.forward(X if forward_input is None
                                              else forward_input)))

    layer.forward(X)
    dX = layer.backward(G)
    dW, db = layer.grads["W"].copy(), layer.grads["b"].copy()
    assert dX.shape == X.shape and dW.shape == (n_in, n_out) and db.shape == (n_out,)

    assert rel_err(dX, fd(lambda x: loss_of(x), X)) < GRAD_TOL
    for name, analytic in (("W", dW), ("b", db)):
        p = layer.params[name]
        original = p.copy()

        def f(value, p=p):
            p[...] = value
            return loss_of()

        assert rel_err(analytic, fd(f, original)) < GRAD_TOL
        p[...] = original


def test_dense_gradients_are_overwritten_not_accumulated():
    rng = np.random.default_rng(0)
    layer = cl.Dense(3, 2, seed=0)
    X, G = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(X)
    layer.backward(G)
    first = {k: v.copy() for k, v in layer.grads.items()}
    layer.forward(X)
    layer.backward(G)
    for k in first:
        np.testing.assert_array_equal(layer.grads[k], first[k])
    # a different batch replaces the gradient completely
    X2, G2 = rng.normal(size=(2, 3)), rng.normal(size=(2, 2))
    layer.forward(X2)
    layer.backward(G2)
    np.testing.assert_allclose(layer.grads["W"], X2.T @ G2)
    np.testing.assert_allclose(layer.grads["b"], G2.sum(axis=0))


def test_dense_backward_does_not_change_weights():
    rng = np.random.default_rng(1)
    layer = cl.Dense(3, 2, seed=0)
    before = {k: v.copy() for k, v in layer.params.items()}
    layer.forward(rng.normal(size=(5, 3)))
    layer.backward(rng.normal(size=(5, 2)))
    for k in before:
        np.testing.assert_array_equal(layer.params[k], before[k])


def test_dense_grads_keep_their_identity():
    """Sequential.params/grads hand out the layers' arrays: they must stay valid."""
    layer = cl.Dense(2, 2, seed=0)
    W_grad = layer.grads["W"]
    layer.forward(np.ones((3, 2)))
    layer.backward(np.ones((3, 2)))
    assert layer.grads["W"] is W_grad
    np.testing.assert_allclose(W_grad, np.full((2, 2), 3.0))


def test_dense_backward_returns_dY_times_W_transposed():
    rng = np.random.default_rng(2)
    layer = cl.Dense(4, 3, seed=0)
    X, G = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    layer.forward(X)
    dX = layer.backward(G)
    np.testing.assert_allclose(dX, G @ layer.params["W"].T, rtol=1e-14)
    np.testing.assert_allclose(layer.grads["W"], X.T @ G, rtol=1e-14)
    np.testing.assert_allclose(layer.grads["b"], G.sum(axis=0), rtol=1e-14)


def test_float32_dense_fed_float64_keeps_float32_gradients():
    """Gradients are written into the layer's own float32 arrays, whatever X is."""
    rng = np.random.default_rng(3)
    layer = cl.Dense(4, 3, seed=0, dtype=np.float32)
    X, G = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    W_grad = layer.grads["W"]
    Z = layer.forward(X)
    assert Z.dtype == np.float64                          # numpy's promotion
    np.testing.assert_allclose(Z, X @ layer.params["W"].astype(float), rtol=1e-6)
    layer.backward(G)
    assert layer.grads["W"] is W_grad and W_grad.dtype == np.float32
    np.testing.assert_array_equal(W_grad, (X.T @ G).astype(np.float32))
    np.testing.assert_array_equal(layer.grads["b"], G.sum(axis=0).astype(np.float32))


# ---------------------------------------------------------------- Dense errors

def test_dense_forward_shape_error_message():
    layer = cl.Dense(2, 4)
    with pytest.raises(cl.ShapeError) as info:
        layer.forward(np.zeros((4, 3)))
    assert str(info.value) == "Dense(2→4).forward: X must have shape (N, 2), got (4, 3)"
    assert isinstance(info.value, ValueError)


def test_dense_forward_1d_input_gets_a_hint():
    with pytest.raises(cl.ShapeError, match=r"got \(2,\).*reshape\(1, -1\)"):
        cl.Dense(2, 4).forward(np.zeros(2))


def test_dense_backward_shape_error_and_order():
    layer = cl.Dense(2, 4)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.zeros((3, 4)))
    layer.forward(np.zeros((3, 2)))
    with pytest.raises(cl.ShapeError,
                       match=r"dY must have shape \(3, 4\).*got \(3, 1\)"):
        layer.backward(np.zeros((3, 1)))


def test_dense_accepts_lists():
    out = cl.Dense(2, 1, init="zeros").forward([[1.0, 2.0]])
    np.testing.assert_array_equal(out, [[0.0]])


# ---------------------------------------------------------------- initialisation

def test_xavier_is_glorot_uniform():
    W = cl.Dense(300, 200, init="xavier", seed=0).params["W"]
    limit = np.sqrt(6 / 500)
    assert np.abs(W).max() <= limit
    assert np.abs(W).max() > 0.99 * limit
    assert W.var() == pytest.approx(2 / 500, rel=0.03)      # limit^2 / 3


def test_he_is_normal_with_std_sqrt_2_over_n_in():
    W = cl.Dense(400, 300, init="he", seed=0).params["W"]
    assert W.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert abs(W.mean()) < 0.005
    # normal, not uniform: some entries lie beyond 3 standard deviations
    assert np.abs(W).max() > 3.5 * np.sqrt(2 / 400)


def test_normal_init_scale_and_zero_bias():
    layer = cl.Dense(400, 300, init="normal", seed=0)
    assert layer.params["W"].std() == pytest.approx(0.01, rel=0.02)
    assert cl.Dense(400, 300, init="normal", scale=0.5, seed=0).params["W"].std() == \
        pytest.approx(0.5, rel=0.02)
    np.testing.assert_array_equal(layer.params["b"], np.zeros(300))


def test_zeros_init_and_unknown_init():
    assert not cl.Dense(3, 2, init="zeros").params["W"].any()
    with pytest.raises(ValueError, match="unknown init 'glorot'.*xavier.*he"):
        cl.Dense(3, 2, init="glorot")


def test_same_seed_same_weights_and_float32():
    a = cl.Dense(5, 3, seed=42).params["W"]
    b = cl.Dense(5, 3, seed=42).params["W"]
    c = cl.Dense(5, 3, seed=43).params["W"]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    layer = cl.Dense(5, 3, seed=42, dtype=np.float32)
    assert layer.params["W"].dtype == np.float32
    assert layer.grads["b"].dtype == np.float32
    assert layer.forward(np.ones((2, 5), np.float32)).dtype == np.float32


# ---------------------------------------------------------------- Dropout

def test_dropout_is_inverted_and_preserves_the_mean():
    X = np.ones((2000, 50))
    layer = cl.Dropout(0.3, seed=0)
    A = layer.forward(X)
    kept = A != 0
    assert kept.mean() == pytest.approx(0.7, abs=0.01)
    np.testing.assert_allclose(A[kept], 1 / 0.7)              # survivors scaled up
    assert A.mean() == pytest.approx(1.0, abs=0.01)


def test_dropout_backward_uses_the_same_mask():
    rng = np.random.default_rng(0)
    layer = cl.Dropout(0.5, seed=1)
    X = rng.normal(size=(6, 8))
    A = layer.forward(X)
    dA = rng.normal(size=(6, 8))
    dX = layer.backward(dA)
    np.testing.assert_allclose(dX, dA * (A / X))              # mask / (1 - p)
    assert layer.params == {} and layer.grads == {}


def test_dropout_is_identity_in_eval_mode_and_with_p_zero():
    X = np.random.default_rng(0).normal(size=(4, 5))
    layer = cl.Dropout(0.9, seed=0).eval()
    assert layer.forward(X) is X
    assert layer.backward(X) is X
    np.testing.assert_array_equal(cl.Dropout(0.0).forward(X), X)


def test_dropout_seeded_masks_repeat_and_p_is_checked():
    X = np.ones((3, 10))
    np.testing.assert_array_equal(cl.Dropout(0.5, seed=3).forward(X),
                                  cl.Dropout(0.5, seed=3).forward(X))
    for p in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="p must be in"):
            cl.Dropout(p)


def test_dropout_keeps_float32():
    A = cl.Dropout(0.5, seed=0).forward(np.ones((4, 4), np.float32))
    assert A.dtype == np.float32


# ---------------------------------------------------------------- properties

@PROPERTY
@given(n_in=st.integers(1, 6), n_out=st.integers(1, 6), N=st.integers(0, 5),
       d=st.integers(1, 6))
def test_dense_shapes_and_the_shape_error_names_both_shapes(n_in, n_out, N, d):
    layer = cl.Dense(n_in, n_out, seed=0)
    X = np.zeros((N, d))
    if d == n_in:
        assert layer.forward(X).shape == (N, n_out)
        assert layer.backward(np.zeros((N, n_out))).shape == (N, n_in)
        assert layer.grads["W"].shape == (n_in, n_out)
    else:
        with pytest.raises(cl.ShapeError) as info:
            layer.forward(X)
        assert str(info.value) == (f"Dense({n_in}→{n_out}).forward: X must have "
                                   f"shape (N, {n_in}), got ({N}, {d})")


@pytest.mark.parametrize("p", [0.2, 0.5])
@pytest.mark.parametrize("seed", [0, 1])
def test_dropout_backward_matches_finite_differences_for_a_fixed_mask(p, seed):
    rng = np.random.default_rng(seed)
    layer = cl.Dropout(p)
    X, G = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))

    def forward(x):
        layer.rng = np.random.default_rng(seed)       # same mask on every call
        return layer.forward(x)

    forward(X)
    analytic = layer.backward(G)
    numeric = fd(lambda x: float(np.sum(G * forward(x))), X)
    assert rel_err(analytic, numeric) < GRAD_TOL
