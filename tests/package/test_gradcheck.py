"""numerical_gradient, relative_error and gradient_check against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

import course_lib as cl


def test_numerical_gradient_of_known_functions():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    # f = sum(x^3) -> 3 x^2
    np.testing.assert_allclose(cl.numerical_gradient(lambda v: np.sum(v ** 3), x),
                               3 * x ** 2, rtol=1e-8)
    # f = sum(sin(x)) -> cos(x)
    np.testing.assert_allclose(cl.numerical_gradient(lambda v: np.sum(np.sin(v)), x),
                               np.cos(x), rtol=1e-8, atol=1e-10)
    # quadratic form of a vector: f = v^T A v -> (A + A^T) v
    v = np.array([0.3, -1.2])
    np.testing.assert_allclose(cl.numerical_gradient(lambda u: u @ A @ u, v),
                               (A + A.T) @ v, rtol=1e-9)


def test_numerical_gradient_restores_x_exactly_and_perturbs_in_place():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4)) * 1e3 + 0.1        # values where x + h - h != x
    original = x.copy()
    seen = []

    def f(v):
        seen.append(v is x)
        return float(np.sum(v ** 2))

    grad = cl.numerical_gradient(f, x)
    np.testing.assert_array_equal(x, original)     # bit for bit
    assert all(seen) and len(seen) == 2 * x.size
    assert grad.shape == x.shape and grad.dtype == np.float64


def test_numerical_gradient_through_a_closure():
    """The book's pattern: f ignores its argument and reads a model's weights."""
    model = cl.MLP([2, 3, 1], seed=0)
    X, y = cl.datasets.xor()
    W = model.params["0.W"]
    loss = cl.BinaryCrossEntropy()
    numeric = cl.numerical_gradient(lambda _: loss.loss(y, model.forward(X)), W)
    model.backward(loss.grad(y, model.forward(X)))
    assert cl.relative_error(model.grads["0.W"], numeric) < 1e-7


def test_relative_error_definition():
    assert cl.relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    # max|a-b| = 0.5, max(|a|+|b|) = 4
    assert cl.relative_error([1.0, 2.0], [1.5, 2.0]) == pytest.approx(0.125)
    assert cl.relative_error([0.0], [0.0]) == 0.0           # floor: no 0/0
    assert cl.relative_error([1e-20], [0.0]) == pytest.approx(1e-8)   # 1e-20/1e-12
    assert cl.relative_error([1.0], [-1.0]) == 1.0
    with pytest.raises(ValueError, match="shapes differ"):
        cl.relative_error(np.zeros(2), np.zeros(3))


class DenseMissingMean(cl.Dense):
    """A plausible student bug: db = mean instead of sum over the batch."""

    def backward(self, dZ):
        dX = super().backward(dZ)
        self.grads["b"][...] = dZ.mean(axis=0)
        return dX


def test_gradient_check_catches_a_wrong_backward():
    rng = np.random.default_rng(0)
    model = cl.Sequential([DenseMissingMean(3, 4, seed=0), cl.Tanh(),
                           cl.Dense(4, 1, seed=1)])
    X, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    errors = cl.gradient_check(model, cl.MSE(), X, y)
    assert errors["0.b"] > 0.1
    assert errors["0.W"] < 1e-7 and errors["2.W"] < 1e-7


def test_gradient_check_runs_in_eval_mode_and_leaves_weights():
    rng = np.random.default_rng(0)
    model = cl.MLP([3, 6, 2], activation="relu", output=None, dropout=0.5, seed=0)
    X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, size=5)
    before = model.get_weights()
    errors = cl.gradient_check(model, "cross_entropy", X, y)
    assert max(errors.values()) < 1e-7             # dropout would break this
    for k, w in before.items():
        np.testing.assert_array_equal(model.params[k], w)
    assert model.training


def test_gradient_check_of_a_float32_model_uses_float64():
    rng = np.random.default_rng(0)
    model = cl.MLP([3, 4, 1], dtype=np.float32, seed=0)
    X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, size=(5, 1)).astype(float)
    assert max(cl.gradient_check(model, "bce", X, y).values()) < 1e-7
    assert model.dtype == np.float32


def test_numerical_gradient_needs_a_float_array():
    with pytest.raises(TypeError, match="float numpy array"):
        cl.numerical_gradient(lambda v: float(np.sum(v)), np.array([1, 2]))
    with pytest.raises(TypeError, match="float numpy array"):
        cl.numerical_gradient(lambda v: float(np.sum(v)), [1.0, 2.0])
