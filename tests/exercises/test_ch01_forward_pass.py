"""Graded tests for chapter 1: the forward pass (17 points).

Oracles: the sigmoid's closed form at moderate inputs and its known values,
and explicit Python loops over neurons for the layer and network products.
"""

import math

import numpy as np
import pytest

from course_lib.grading.checking import feedback as fb

RNG = np.random.default_rng(101)

STABLE_HINT = (
    "Your sigmoid overflows for very negative z: exp(-z) of a large positive "
    "number is too big for a float. Only call exp on -|z| and use "
    "exp(z) / (1 + exp(z)) when z < 0."
)


def _sigmoid_scalar(z):
    """Reference sigmoid for one float, via the math module."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _dense_loops(X, W, b):
    """Z[i, j] = sum_k X[i, k] W[k, j] + b[j], one neuron at a time."""
    n, d_in = X.shape
    d_out = W.shape[1]
    Z = np.zeros((n, d_out))
    for i in range(n):
        for j in range(d_out):
            Z[i, j] = sum(X[i, k] * W[k, j] for k in range(d_in)) + b[j]
    return Z


def _mlp_loops(X, params):
    sig = np.vectorize(_sigmoid_scalar)
    A1 = sig(_dense_loops(X, params["W1"], params["b1"]))
    return sig(_dense_loops(A1, params["W2"], params["b2"]))


def _params(d_in, h, d_out, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "W1": scale * rng.normal(size=(d_in, h)),
        "b1": scale * rng.normal(size=h),
        "W2": scale * rng.normal(size=(h, d_out)),
        "b2": scale * rng.normal(size=d_out),
    }


# ---------------------------------------------------------------- sigmoid


@pytest.mark.points(2)
def test_sigmoid__matches_closed_form(ch01):
    z = RNG.normal(scale=3.0, size=(3, 4))
    expected = 1.0 / (1.0 + np.exp(-z))
    fb.check_close(
        "sigmoid(z)", ch01.sigmoid(z), expected, rtol=1e-9, atol=1e-12,
        context="for z of shape (3, 4)",
        hint="The sigmoid is 1 / (1 + exp(-z)), applied to every entry.",
    )


@pytest.mark.points(1)
def test_sigmoid__known_values(ch01):
    z = np.array([0.0, math.log(3.0), -math.log(3.0)])
    fb.check_close(
        "sigmoid(z)", ch01.sigmoid(z), np.array([0.5, 0.75, 0.25]), rtol=1e-9,
        context="for z = [0, ln 3, -ln 3]",
    )


@pytest.mark.points(2)
def test_sigmoid__large_inputs_no_overflow(ch01):
    z = np.array([-1e4, -1000.0, -710.0, -40.0, 0.0, 40.0, 710.0, 1000.0, 1e4])
    res = ch01.call("sigmoid", z)
    fb.check_no_warnings("sigmoid(z) for z = -1000", res.warnings, STABLE_HINT)
    got = fb.check_finite("sigmoid(z)", res.value, "for |z| up to 1e4", STABLE_HINT)
    expected = np.array([_sigmoid_scalar(v) for v in z])
    fb.check_close("sigmoid(z)", got, expected, rtol=1e-9, atol=1e-300,
                   context="for |z| up to 1e4")


@pytest.mark.points(1)
def test_sigmoid__keeps_shape(ch01):
    z = RNG.normal(size=(2, 3, 5))
    expected = 1.0 / (1.0 + np.exp(-z))
    fb.check_close(
        "sigmoid(z)", ch01.sigmoid(z), expected, rtol=1e-9,
        context="for z of shape (2, 3, 5)",
        hint="Apply the formula element by element; do not reduce or reshape.",
    )


# ---------------------------------------------------------------- relu


@pytest.mark.points(1)
def test_relu__values(ch01):
    z = np.array([[-2.5, 0.0, 3.0], [1e-3, -1e-3, 7.0]])
    expected = np.array([[0.0, 0.0, 3.0], [1e-3, 0.0, 7.0]])
    fb.check_close("relu(z)", ch01.relu(z), expected, rtol=0, atol=0,
                   hint="relu keeps positive entries and sets the others to 0.")


@pytest.mark.points(1)
def test_relu__does_not_modify_input(ch01):
    z = np.array([[-1.0, 2.0], [3.0, -4.0], [0.5, -0.5]])
    res = ch01.call("relu", z.copy())
    fb.check_unchanged("z", z, res.args[0], "Use np.maximum(z, 0), which makes a new "
                       "array, rather than z[z < 0] = 0.")
    fb.check_close("relu(z)", res.value, np.maximum(z, 0), rtol=0, atol=0)


# ---------------------------------------------------------------- dense


@pytest.mark.points(2)
def test_dense_forward__values(ch01):
    X = RNG.normal(size=(5, 3))
    W = RNG.normal(size=(3, 2))
    b = RNG.normal(size=2)
    fb.check_close(
        "Z", ch01.dense_forward(X, W, b), _dense_loops(X, W, b), rtol=1e-9,
        context="for X (5, 3), W (3, 2), b (2,)",
        hint="Z = X @ W + b: (N, D_in) @ (D_in, D_out) gives (N, D_out).",
    )


@pytest.mark.points(1)
def test_dense_forward__hand_worked(ch01):
    X = np.array([[1.0, 2.0]])
    W = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    b = np.array([0.0, 0.0, 0.5])
    fb.check_close("Z", ch01.dense_forward(X, W, b), np.array([[1.0, 2.0, 3.5]]),
                   rtol=1e-12, context="for X = [[1, 2]] (the docstring example)")


@pytest.mark.points(1)
def test_dense_forward__non_square_batch_of_one(ch01):
    X = RNG.normal(size=(1, 4))
    W = RNG.normal(size=(4, 7))
    b = RNG.normal(size=7)
    fb.check_close(
        "Z", ch01.dense_forward(X, W, b), _dense_loops(X, W, b), rtol=1e-9,
        context="for a batch of one, X (1, 4), W (4, 7)",
        hint="Z = X @ W + b must work for any N, including N = 1.",
    )


# ---------------------------------------------------------------- mlp


@pytest.mark.points(1)
def test_mlp_forward__zero_weights_give_one_half(ch01):
    params = {"W1": np.zeros((2, 4)), "b1": np.zeros(4),
              "W2": np.zeros((4, 1)), "b2": np.zeros(1)}
    fb.check_close(
        "y_hat", ch01.mlp_forward(np.ones((3, 2)), params), np.full((3, 1), 0.5),
        rtol=1e-12, context="with all weights zero",
        hint="With zero weights every output is sigmoid(0) = 0.5.",
    )


@pytest.mark.points(2)
def test_mlp_forward__matches_neuron_by_neuron(ch01):
    X = RNG.normal(size=(4, 2))
    params = _params(2, 4, 1, seed=1)
    fb.check_close(
        "y_hat", ch01.mlp_forward(X, params), _mlp_loops(X, params), rtol=1e-9,
        context="for a 2-4-1 network on 4 examples",
        hint="y_hat = sigmoid(sigmoid(X @ W1 + b1) @ W2 + b2): a sigmoid after "
        "both layers.",
    )


@pytest.mark.points(1)
def test_mlp_forward__several_outputs(ch01):
    X = RNG.normal(size=(6, 3))
    params = _params(3, 5, 2, seed=2)
    fb.check_close(
        "y_hat", ch01.mlp_forward(X, params), _mlp_loops(X, params), rtol=1e-9,
        context="for a 3-5-2 network on 6 examples",
        hint="Use params['W1'] (3, 5) for the first layer and params['W2'] (5, 2) "
        "for the second.",
    )


@pytest.mark.points(1)
def test_mlp_forward__large_weights_stay_stable(ch01):
    X = RNG.normal(size=(5, 3))
    params = _params(3, 4, 2, scale=500.0, seed=3)
    res = ch01.call("mlp_forward", X, params)
    fb.check_no_warnings("mlp_forward with large weights", res.warnings, STABLE_HINT)
    fb.check_close("y_hat", res.value, _mlp_loops(X, params), rtol=1e-9, atol=1e-300,
                   context="with weights of size ~500")
