"""Activations: values against closed forms, gradients against finite differences,
stability at extreme inputs."""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from oracles import GRAD_TOL, fd, rel_err
from properties import PROPERTY, strict_numpy

import course_lib as cl

LAYERS = {
    "sigmoid": cl.Sigmoid,
    "tanh": cl.Tanh,
    "relu": cl.ReLU,
    "leaky_relu": lambda: cl.LeakyReLU(alpha=0.1),
    "identity": cl.Identity,
    "softmax": cl.Softmax,
}


def away_from_kink(Z, margin=1e-3):
    """Move entries of Z out of [-margin, margin] (ReLU kinks break finite diffs)."""
    return np.where(np.abs(Z) < margin, np.sign(Z + 1e-12) * 2 * margin, Z)


# ---------------------------------------------------------------- closed forms

def test_plain_functions_match_textbook_formulas():
    z = np.linspace(-6, 6, 49)
    np.testing.assert_allclose(cl.sigmoid(z), 1 / (1 + np.exp(-z)), rtol=1e-13)
    np.testing.assert_allclose(cl.tanh(z), (np.exp(z) - np.exp(-z))
                               / (np.exp(z) + np.exp(-z)), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(cl.relu(z), np.where(z > 0, z, 0.0))
    np.testing.assert_allclose(cl.leaky_relu(z, 0.2), np.where(z > 0, z, 0.2 * z))
    np.testing.assert_array_equal(cl.identity(z), z)
    np.testing.assert_allclose(cl.softplus(z), np.log(1 + np.exp(z)), rtol=1e-12)


@pytest.mark.parametrize("f, fprime", [
    (cl.sigmoid, cl.sigmoid_prime),
    (cl.tanh, cl.tanh_prime),
    (cl.relu, cl.relu_prime),
    (lambda z: cl.leaky_relu(z, 0.3), lambda z: cl.leaky_relu_prime(z, 0.3)),
    (cl.identity, cl.identity_prime),
])
def test_derivative_functions_match_finite_differences(f, fprime):
    z = away_from_kink(np.linspace(-5, 5, 41))
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    np.testing.assert_allclose(fprime(z), numeric, rtol=1e-7, atol=1e-9)


def test_sigmoid_prime_peak_and_relu_prime_at_zero():
    assert cl.sigmoid_prime(np.array(0.0)) == pytest.approx(0.25, abs=1e-15)
    assert cl.tanh_prime(np.array(0.0)) == pytest.approx(1.0, abs=1e-15)
    assert cl.relu_prime(np.array([0.0]))[0] == 0.0


def test_softmax_matches_definition_and_is_shift_invariant():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(5, 4))
    expected = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(cl.softmax(Z), expected, rtol=1e-13)
    np.testing.assert_allclose(cl.softmax(Z + 100.0), expected, rtol=1e-12)
    np.testing.assert_allclose(cl.log_softmax(Z), np.log(expected), rtol=1e-12)
    np.testing.assert_allclose(cl.logsumexp(Z, axis=1),
                               np.log(np.exp(Z).sum(axis=1)), rtol=1e-13)


# ---------------------------------------------------------------- layer gradients

@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("shape", [(1, 1), (4, 3), (7, 5)])
@pytest.mark.parametrize("seed", [0, 1])
def test_activation_backward_matches_finite_differences(name, shape, seed):
    rng = np.random.default_rng(seed)
    layer = LAYERS[name]()
    Z = away_from_kink(rng.normal(scale=2.0, size=shape))
    G = rng.normal(size=shape)                      # upstream gradient dA

    def f(Zp):
        return float(np.sum(G * layer.forward(Zp)))

    layer.forward(Z)
    analytic = layer.backward(G)
    assert analytic.shape == Z.shape
    assert rel_err(analytic, fd(f, Z)) < GRAD_TOL


@pytest.mark.parametrize("name", list(LAYERS))
def test_activation_layers_have_no_params(name):
    layer = LAYERS[name]()
    assert layer.params == {} and layer.grads == {}


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softmax"])
def test_backward_rejects_wrong_gradient_shape(name):
    layer = LAYERS[name]()
    layer.forward(np.zeros((4, 1)))
    with pytest.raises(cl.ShapeError, match=r"must have shape \(4, 1\).*got \(4,\)"):
        layer.backward(np.zeros(4))


# ---------------------------------------------------------------- stability

# underflow to 0 (or to a subnormal) is exact enough and numpy ignores it by default;
# everything else (overflow, division by zero, invalid) must never happen
extreme = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                     elements=st.floats(-1e4, 1e4))


@PROPERTY
@given(Z=extreme)
def test_sigmoid_is_finite_bounded_and_silent(Z):
    with strict_numpy():
        A = cl.sigmoid(Z)
        d = cl.sigmoid_prime(Z)
    assert np.all(np.isfinite(A)) and np.all((A >= 0) & (A <= 1))
    assert np.all(np.isfinite(d)) and np.all((d >= 0) & (d <= 0.25))


@PROPERTY
@given(Z=extreme)
def test_softmax_rows_sum_to_one_and_are_silent(Z):
    with strict_numpy():
        P = cl.softmax(Z)
        L = cl.log_softmax(Z)
        layer = cl.Softmax()
        layer.forward(Z)
        dZ = layer.backward(np.ones_like(Z))
    assert P.shape == Z.shape
    assert np.all(np.isfinite(P)) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(np.isfinite(L)) and np.all(L <= 0)
    np.testing.assert_allclose(dZ, 0.0, atol=1e-12)   # softmax(Z + c) = softmax(Z)


def test_extreme_values_are_exact_limits():
    z = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])
    np.testing.assert_array_equal(cl.sigmoid(z), [0.0, 0.0, 0.5, 1.0, 1.0])
    np.testing.assert_allclose(cl.softmax(np.array([[1e4, 0.0, -1e4]])),
                               [[1.0, 0.0, 0.0]])
    assert cl.softplus(np.array(1e4)) == 1e4
    assert math.isclose(float(cl.softplus(np.array(-1e4))), 0.0, abs_tol=1e-300)


@PROPERTY
@given(Z=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=5),
                    elements=st.floats(-50, 50)))
def test_activation_layers_preserve_shape(Z):
    for make in LAYERS.values():
        layer = make()
        A = layer.forward(Z)
        assert A.shape == Z.shape
        assert layer.backward(np.ones_like(A)).shape == Z.shape


# ---------------------------------------------------------------- registry

@pytest.mark.parametrize("name, cls", [("sigmoid", cl.Sigmoid), ("tanh", cl.Tanh),
                                       ("relu", cl.ReLU), ("leaky_relu", cl.LeakyReLU),
                                       ("identity", cl.Identity),
                                       ("linear", cl.Identity),
                                       ("softmax", cl.Softmax), ("ReLU", cl.ReLU)])
def test_get_activation_returns_a_fresh_layer(name, cls):
    a, b = cl.get_activation(name), cl.get_activation(name)
    assert type(a) is cls and a is not b


def test_get_activation_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="unknown activation 'swish'.*sigmoid.*relu"):
        cl.get_activation("swish")


def test_leaky_relu_alpha_is_used():
    layer = cl.get_activation("leaky_relu", alpha=0.25)
    np.testing.assert_allclose(layer.forward(np.array([[-4.0, 2.0]])), [[-1.0, 2.0]])


def test_relu_layers_use_the_same_convention_at_zero_as_relu_prime():
    Z = np.array([[-1.0, 0.0, 2.0]])
    for layer, prime in ((cl.ReLU(), cl.relu_prime(Z)),
                         (cl.LeakyReLU(0.1), cl.leaky_relu_prime(Z, 0.1))):
        layer.forward(Z)
        np.testing.assert_array_equal(layer.backward(np.ones_like(Z)), prime)
    np.testing.assert_array_equal(cl.relu_prime(Z), [[0.0, 0.0, 1.0]])
