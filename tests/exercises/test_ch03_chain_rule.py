"""Graded tests for chapter 3: the chain rule and backpropagation (24 points).

Every backward function is checked against centred finite differences that
these tests compute themselves (never with the student's
``numerical_gradient``). The shapes are all different (N=5, D_in=3, D_out=2,
H=4) so that a transposed product cannot pass by accident.

The convention under test: ``dense_backward`` receives a ``dZ`` that already
carries the ``1/N`` of the batch-mean loss, and does not divide again.
"""

import math

import numpy as np
import pytest
from oracles import dense_grads, fd, sigmoid, two_layer_forward

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import Fn
from course_lib.grading.checking.testfns import GRADIENTS

RNG = np.random.default_rng(303)


# ---------------------------------------------------------------- sigmoid_backward


@pytest.mark.points(2)
def test_sigmoid_backward__matches_finite_differences(ch03):
    Z = RNG.normal(size=(3, 4))
    dA = RNG.normal(size=(3, 4))
    expected = fd(lambda z: float(np.sum(dA * sigmoid(z))), Z)
    got = fb.check_shape("dZ", ch03.sigmoid_backward(dA, Z), Z.shape)
    s = sigmoid(Z)
    if np.allclose(got, dA):
        fb.fail("sigmoid_backward returned dA unchanged: the chain rule multiplies "
                "it by the sigmoid's derivative sigma(Z) * (1 - sigma(Z)).")
    if np.allclose(got, dA * Z * (1 - Z)):
        fb.fail("You used Z * (1 - Z): Z is the pre-activation. The derivative is "
                "sigma(Z) * (1 - sigma(Z)); apply the sigmoid to Z first.")
    if np.allclose(got, dA * s):
        fb.fail("You multiplied dA by sigma(Z); the derivative of the sigmoid is "
                "sigma(Z) * (1 - sigma(Z)).")
    fb.check_close("dZ", got, expected, rtol=1e-5, atol=1e-9,
                   context="(compared with finite differences)",
                   hint="dZ = dA * sigma(Z) * (1 - sigma(Z)), element by element.")


@pytest.mark.points(1)
def test_sigmoid_backward__hand_worked(ch03):
    dA = np.array([[1.0, 2.0]])
    Z = np.array([[0.0, math.log(3.0)]])
    fb.check_close("dZ", ch03.sigmoid_backward(dA, Z), np.array([[0.25, 0.375]]),
                   rtol=1e-9, context="for dA = [[1, 2]], Z = [[0, ln 3]]",
                   hint="sigma(0) = 1/2 gives 1/4; sigma(ln 3) = 3/4 gives "
                   "2 * 3/4 * 1/4.")


@pytest.mark.points(1)
def test_sigmoid_backward__large_Z_stable(ch03):
    Z = np.array([[-1e4, -1000.0, 0.0, 1000.0, 1e4]])
    dA = np.ones_like(Z)
    res = ch03.call("sigmoid_backward", dA, Z)
    hint = "Use the stable _sigmoid given in the file rather than 1 / (1 + exp(-Z))."
    fb.check_no_warnings("sigmoid_backward for Z = -1000", res.warnings, hint)
    got = fb.check_finite("dZ", res.value, "for |Z| up to 1e4", hint)
    fb.check_close("dZ", got, np.array([[0.0, 0.0, 0.25, 0.0, 0.0]]), rtol=1e-9,
                   atol=1e-300, context="for |Z| up to 1e4")


# ---------------------------------------------------------------- relu_backward


@pytest.mark.points(2)
def test_relu_backward__matches_definition(ch03):
    Z = np.array([[-1.0, 0.0, 2.0, 0.5, -3.0], [4.0, -0.1, 0.0, 1e-9, 7.0],
                  [-2.0, 3.0, -5.0, 0.0, 1.0]])
    dA = RNG.normal(size=Z.shape)
    expected = np.array([[dA[i, j] if Z[i, j] > 0 else 0.0 for j in range(5)]
                         for i in range(3)])
    got = fb.check_shape("dZ", ch03.relu_backward(dA, Z), Z.shape)
    if np.allclose(got, (Z > 0).astype(float)):
        fb.fail("relu_backward returned the ReLU's derivative alone: multiply it by "
                "the incoming gradient dA (chain rule).")
    zero = Z == 0
    if np.allclose(got[~zero], expected[~zero]) and not np.allclose(got, expected):
        fb.fail("relu_backward is right except where Z == 0: the course takes the "
                "derivative there to be 0 (use Z > 0, not Z >= 0).")
    fb.check_close("dZ", got, expected, rtol=1e-12,
                   hint="dZ = dA where Z > 0, and 0 elsewhere.")


@pytest.mark.points(1)
def test_relu_backward__does_not_modify_dA(ch03):
    Z = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])
    dA = np.arange(1.0, 7.0).reshape(2, 3)
    res = ch03.call("relu_backward", dA.copy(), Z.copy())
    fb.check_unchanged("dA", dA, res.args[0],
                       "Return dA * (Z > 0) rather than setting dA[Z <= 0] = 0.")
    fb.check_unchanged("Z", Z, res.args[1])
    fb.check_close("dZ", res.value, dA * (Z > 0), rtol=1e-12)


# ---------------------------------------------------------------- dense_backward

N, D_IN, D_OUT = 5, 3, 2


def _dense_case(n=N, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, D_IN))
    W = rng.normal(size=(D_IN, D_OUT))
    b = rng.normal(size=D_OUT)
    dZ = rng.normal(size=(n, D_OUT))
    return X, W, b, dZ


def _call_dense(ch03, X, W, dZ):
    got = fb.unpack("dense_backward", ch03.dense_backward(dZ, X, W), 3,
                    ("dX", "dW", "db"))
    return got


@pytest.mark.points(2)
def test_dense_backward__dW_matches_finite_differences(ch03):
    X, W, b, dZ = _dense_case()
    _, dW, _ = _call_dense(ch03, X, W, dZ)
    _, expected, _ = dense_grads(X, W, b, dZ)
    fb.check_shape("dW", dW, W.shape,
                   f"dW must match W {W.shape}: use X.T @ dZ, "
                   f"({D_IN}, {N}) @ ({N}, {D_OUT}).")
    fb.check_close("dW", dW, expected, rtol=1e-6, atol=1e-8,
                   factors=fb.batch_factors(N, "dW"),
                   context="(compared with finite differences)")


@pytest.mark.points(2)
def test_dense_backward__dX_matches_finite_differences(ch03):
    X, W, b, dZ = _dense_case(seed=1)
    dX, _, _ = _call_dense(ch03, X, W, dZ)
    expected, _, _ = dense_grads(X, W, b, dZ)
    fb.check_shape("dX", dX, X.shape,
                   f"dX must match X {X.shape}: use dZ @ W.T, "
                   f"({N}, {D_OUT}) @ ({D_OUT}, {D_IN}).")
    fb.check_close("dX", dX, expected, rtol=1e-6, atol=1e-8,
                   factors=fb.batch_factors(N, "dX"),
                   context="(compared with finite differences)")


@pytest.mark.points(1)
def test_dense_backward__db_matches_finite_differences(ch03):
    X, W, b, dZ = _dense_case(seed=2)
    _, _, db = _call_dense(ch03, X, W, dZ)
    _, _, expected = dense_grads(X, W, b, dZ)
    fb.check_shape("db", db, b.shape,
                   f"db must match b {b.shape}: sum dZ over the batch (axis=0).")
    fb.check_close("db", db, expected, rtol=1e-6, atol=1e-8,
                   factors=fb.batch_factors(N, "db"),
                   context="(compared with finite differences)",
                   hint="Each bias is added to every example: sum over axis 0.")


@pytest.mark.points(1)
def test_dense_backward__batch_of_one(ch03):
    X, W, b, dZ = _dense_case(n=1, seed=3)
    dX, dW, db = _call_dense(ch03, X, W, dZ)
    eX, eW, eb = dense_grads(X, W, b, dZ)
    fb.check_close("dX", dX, eX, rtol=1e-6, atol=1e-8, context="for N = 1")
    fb.check_close("dW", dW, eW, rtol=1e-6, atol=1e-8, context="for N = 1")
    fb.check_close("db", db, eb, rtol=1e-6, atol=1e-8, context="for N = 1",
                   hint="Keep db 1-D: dZ.sum(axis=0), not np.squeeze(dZ).")


# ---------------------------------------------------------------- numerical_gradient


def _check_numgrad(ch03, name, x, context):
    expected = GRADIENTS[name](x)
    res = ch03.call("numerical_gradient", Fn(name), x.copy())
    got = fb.check_shape("grad", res.value, x.shape,
                         "Return one partial derivative per entry of x.")
    fb.check_close(
        "grad", got, expected, rtol=1e-6, atol=1e-7, context=context,
        hint="Use centred differences (f(x + h) - f(x - h)) / (2 h), one entry at a "
        "time, and put each entry back before moving on.")
    return res


@pytest.mark.points(1)
def test_numerical_gradient__quadratic(ch03):
    x = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.5]])
    _check_numgrad(ch03, "quadratic", x, "for f(x) = sum(x**2), x of shape (2, 3)")


@pytest.mark.points(2)
def test_numerical_gradient__every_entry_in_place(ch03):
    x = RNG.uniform(0.5, 1.5, size=(3, 2))
    _check_numgrad(ch03, "weighted_cubic", x,
                   "for f(x) = sum(w * x**3) with a different weight per entry, "
                   "x of shape (3, 2)")


@pytest.mark.points(1)
def test_numerical_gradient__three_dimensional_coupled(ch03):
    x = RNG.normal(size=(2, 2, 3))
    _check_numgrad(ch03, "log_sum_exp", x,
                   "for f(x) = log(sum(exp(x))), x of shape (2, 2, 3)")


@pytest.mark.points(1)
def test_numerical_gradient__restores_x(ch03):
    x = RNG.normal(size=(2, 3))
    res = ch03.call("numerical_gradient", Fn("quadratic"), x.copy())
    fb.check_unchanged("x", x, res.args[1],
                       "After nudging an entry, put its original value back.",
                       rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- backprop_two_layer

BP_N, BP_D, BP_H, BP_K = 5, 3, 4, 2


def _bp_case():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(BP_N, BP_D))
    y = rng.uniform(size=(BP_N, BP_K))
    params = {"W1": rng.normal(size=(BP_D, BP_H)), "b1": rng.normal(size=BP_H),
              "W2": rng.normal(size=(BP_H, BP_K)), "b2": rng.normal(size=BP_K)}
    return X, y, params


def _bp_loss(X, y, p):
    return float(np.mean((two_layer_forward(p, X) - y) ** 2))


BP_FACTORS = {
    0.5: "the gradient is off by a factor of 2: d/dy of (y_hat - y)^2 is "
    "2 (y_hat - y).",
    float(BP_N * BP_K): f"the gradient is {BP_N * BP_K} times too large: the MSE is "
    "a mean over all N * K entries, so dY = 2 (y_hat - y) / (N * K).",
    float(BP_K): f"the gradient is {BP_K} times too large: the MSE averages over "
    "all N * K entries, not just over the N examples.",
    -1.0: "the sign is flipped: dY = 2 (y_hat - y) / (N K), prediction minus target.",
    1.0 / BP_N: f"the gradient is {BP_N} times too small (N = {BP_N}): the 1/N is "
    "applied twice; dense_backward must not divide by N again.",
}
BP_HINT = ("Start from dY = 2 (y_hat - y) / (N K); dZ2 = dY * y_hat * (1 - y_hat); "
           "dW2 = A1.T @ dZ2; dZ1 = (dZ2 @ W2.T) * A1 * (1 - A1); dW1 = X.T @ dZ1.")


def _check_bp(ch03, key, points_to):
    X, y, params = _bp_case()
    grads = ch03.backprop_two_layer(X, y, params)
    if not isinstance(grads, dict) or key not in grads:
        keys = sorted(grads) if isinstance(grads, dict) else None
        fb.fail(f"backprop_two_layer must return a dict with keys 'dW1', 'db1', "
                f"'dW2', 'db2'; got {fb.describe_type(grads)}"
                + (f" with keys {keys}" if keys is not None else "") + ".")
    param = points_to

    def loss_of(value):
        p = dict(params)
        p[param] = value
        return _bp_loss(X, y, p)

    expected = fd(loss_of, params[param])
    fb.check_shape(key, grads[key], params[param].shape,
                   f"{key} must have the shape of {param} {params[param].shape}.")
    fb.check_close(key, grads[key], expected, rtol=1e-5, atol=1e-9,
                   factors=BP_FACTORS,
                   context=f"(finite differences; X {X.shape}, H = {BP_H}, "
                   f"y {y.shape})", hint=BP_HINT)


@pytest.mark.points(2)
def test_backprop_two_layer__dW2_matches_finite_differences(ch03):
    _check_bp(ch03, "dW2", "W2")


@pytest.mark.points(1)
def test_backprop_two_layer__db2_matches_finite_differences(ch03):
    _check_bp(ch03, "db2", "b2")


@pytest.mark.points(2)
def test_backprop_two_layer__dW1_matches_finite_differences(ch03):
    _check_bp(ch03, "dW1", "W1")


@pytest.mark.points(1)
def test_backprop_two_layer__db1_matches_finite_differences(ch03):
    _check_bp(ch03, "db1", "b1")
