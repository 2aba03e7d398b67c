"""Graded tests for chapter 4: solving XOR (16 points).

Oracles: the initialisation's statistics with tolerances derived from the
sample size, the binary cross-entropy computed here, finite differences of it
for the update of ``train_step``, and the XOR truth table.
"""

import math

import numpy as np
import pytest
from oracles import XOR_X, XOR_Y, bce, fd, two_layer_forward

from course_lib.grading.checking import feedback as fb

KEYS = ("W1", "b1", "W2", "b2")
TRAIN_TIMEOUT = 60.0


def _bce(p, X, y):
    """The course's loss for the XOR network: BCE of its output."""
    return bce(y, two_layer_forward(p, X))


def _check_params(name, params, shapes):
    if not isinstance(params, dict):
        fb.fail(f"{name} must return a dict with keys 'W1', 'b1', 'W2', 'b2'; got "
                f"{fb.describe_type(params)}.")
    missing = [k for k in KEYS if k not in params]
    if missing:
        fb.fail(f"{name} returned a dict without {missing}; it needs 'W1', 'b1', "
                f"'W2' and 'b2'.")
    for key, shape in zip(KEYS, shapes):
        fb.check_shape(f"params['{key}']", params[key], shape)
    return params


# ---------------------------------------------------------------- init_params


@pytest.mark.points(1)
def test_init_params__shapes_and_zero_biases(ch04):
    p = _check_params("init_params", ch04.init_params(3, 5, 2, 0),
                      [(3, 5), (5,), (5, 2), (2,)])
    for key in ("b1", "b2"):
        if np.any(np.asarray(p[key]) != 0):
            fb.fail(f"params['{key}'] must start at zero, got {fb.show(p[key])}.")
    if np.allclose(p["W1"], 0) or np.allclose(p["W2"], 0):
        fb.fail("The weights are all zero: every hidden unit would compute the same "
                "thing forever. Draw them at random.")


def _check_normal(name, W, std):
    W = np.asarray(W, dtype=float)
    n = W.size
    got_std = float(W.std())
    got_mean = float(W.mean())
    # standard errors of the sample mean and standard deviation: std/sqrt(n) and
    # std/sqrt(2n); allow 6 of them, and an excess kurtosis within 6 of its s.e.
    if abs(got_mean) > 6 * std / math.sqrt(n):
        fb.fail(f"{name} has mean {got_mean:.4g}; Xavier weights have mean 0.")
    if abs(got_std - std) > 6 * std / math.sqrt(2 * n):
        fb.fail(
            f"{name} has standard deviation {got_std:.4g}; the Xavier normal "
            f"standard deviation sqrt(2 / (fan_in + fan_out)) is {std:.4g} here. "
            "(np.random.default_rng(seed).normal(0, std, size) takes the standard "
            "deviation, not the variance.)")
    z = (W - got_mean) / got_std
    kurt = float(np.mean(z**4))
    if abs(kurt - 3.0) > 6 * math.sqrt(24.0 / n):
        fb.fail(f"{name} does not look normally distributed (kurtosis {kurt:.3g}, "
                "a normal distribution has 3): draw with rng.normal.")


@pytest.mark.points(2)
def test_init_params__xavier_normal_statistics(ch04):
    n_in, h, n_out = 400, 300, 200
    p = _check_params("init_params", ch04.init_params(n_in, h, n_out, 1),
                      [(n_in, h), (h,), (h, n_out), (n_out,)])
    _check_normal("W1", p["W1"], math.sqrt(2.0 / (n_in + h)))
    _check_normal("W2", p["W2"], math.sqrt(2.0 / (h + n_out)))


@pytest.mark.points(1)
def test_init_params__seed_reproducible(ch04):
    a = ch04.init_params(2, 4, 1, 5)
    b = ch04.init_params(2, 4, 1, 5)
    c = ch04.init_params(2, 4, 1, 6)
    _check_params("init_params", a, [(2, 4), (4,), (4, 1), (1,)])
    if not all(np.array_equal(a[k], b[k]) for k in KEYS):
        fb.fail("init_params(2, 4, 1, seed=5) gave different weights on two calls: "
                "use rng = np.random.default_rng(seed), not np.random.* functions.")
    if np.array_equal(a["W1"], c["W1"]):
        fb.fail("Seeds 5 and 6 gave the same W1: pass the seed to "
                "np.random.default_rng(seed).")


# ---------------------------------------------------------------- train_step


def _step_case():
    rng = np.random.default_rng(44)
    X = rng.normal(size=(6, 3))
    y = (rng.random((6, 1)) < 0.5).astype(float)
    p = {"W1": rng.normal(size=(3, 5)), "b1": rng.normal(size=5),
         "W2": rng.normal(size=(5, 1)), "b2": rng.normal(size=1)}
    return p, X, y


@pytest.mark.points(2)
def test_train_step__returns_loss_before_update(ch04):
    p, X, y = _step_case()
    res = ch04.call("train_step", {k: v.copy() for k, v in p.items()}, X, y, 0.5)
    loss = fb.as_float("loss", res.value,
                       "train_step returns the binary cross-entropy (a float).")
    expected = _bce(p, X, y)
    after = res.args[0]
    if isinstance(after, dict) and all(k in after for k in KEYS):
        if math.isclose(loss, _bce(after, X, y), rel_tol=1e-6) and not math.isclose(
                loss, expected, rel_tol=1e-6):
            fb.fail("train_step returned the loss after the update; return the loss "
                    "of the forward pass that computed the gradients (before it).")
    fb.check_close("loss", loss, expected, rtol=1e-6,
                   factors={6.0: "the loss is a sum over the 6 examples; the course "
                            "averages over the batch (np.mean)."},
                   context="for X (6, 3) and a 3-5-1 network",
                   hint="loss = -mean(y log y_hat + (1 - y) log(1 - y_hat)).")


@pytest.mark.points(3)
def test_train_step__updates_params_in_place(ch04):
    p, X, y = _step_case()
    lr = 0.5
    res = ch04.call("train_step", {k: v.copy() for k, v in p.items()}, X, y, lr)
    after = _check_params("train_step (params after the call)", res.args[0],
                          [v.shape for v in p.values()])
    if all(np.array_equal(after[k], p[k]) for k in KEYS):
        fb.fail("params is unchanged after train_step: update it in place, e.g. "
                "params['W1'] -= lr * dW1 (or params['W1'] = params['W1'] - "
                "lr * dW1).")
    factors = {
        -1.0: "the step goes up the gradient: subtract lr * gradient.",
        6.0: "the step is 6 times too large (6 examples): dZ2 = (y_hat - y) / N.",
    }
    for key in ("W2", "b2", "W1", "b1"):

        def loss_of(value, key=key):
            q = dict(p)
            q[key] = value
            return _bce(q, X, y)

        expected_step = -lr * fd(loss_of, p[key])
        fb.check_close(
            f"the change of params['{key}']",
            np.asarray(after[key], dtype=float) - p[key], expected_step, rtol=1e-5,
            atol=1e-9, factors=factors, context="(lr times finite differences)",
            hint="Compute all four gradients first, then update: "
            "dZ2 = (y_hat - y) / N, dW2 = A1.T @ dZ2, "
            "dZ1 = (dZ2 @ W2.T) * A1 * (1 - A1), dW1 = X.T @ dZ1.")


# ---------------------------------------------------------------- predict


@pytest.mark.points(2)
def test_predict__thresholds_at_one_half(ch04):
    rng = np.random.default_rng(45)
    p = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
         "W2": rng.normal(size=(4, 1)), "b2": np.array([-0.3])}
    X = rng.normal(size=(9, 3))
    y_hat = two_layer_forward(p, X)
    expected = (y_hat > 0.5).astype(int)
    got = fb.check_shape("predict(params, X)", ch04.predict(p, X), (9, 1),
                         "Return one label per example as a column (N, 1).")
    fb.check_close("predict(params, X)", got, expected, rtol=0, atol=0,
                   context=f"for outputs y_hat = {fb.show(y_hat.ravel())}",
                   hint="Label 1 where sigmoid's output y_hat > 0.5, else 0.")


@pytest.mark.points(1)
def test_predict__returns_integers(ch04):
    p = {"W1": np.eye(2, 3), "b1": np.zeros(3), "W2": np.ones((3, 1)),
         "b2": np.array([-1.5])}
    got = fb.as_array("predict(params, X)", ch04.predict(p, XOR_X))
    if got.dtype.kind not in "iu":
        fb.fail(f"predict returned an array of dtype {got.dtype}; return integers "
                "0 and 1: (y_hat > 0.5).astype(int).")
    fb.check_shape("predict(params, X)", got, (4, 1))


# ---------------------------------------------------------------- train_xor


def _check_solves_xor(ch04, seed):
    params = ch04.with_timeout(TRAIN_TIMEOUT).train_xor(2000, 2.0, seed)
    p = _check_params("train_xor", params, [(2, 4), (4,), (4, 1), (1,)])
    y_hat = two_layer_forward(
        {k: np.asarray(v, dtype=float) for k, v in p.items()}, XOR_X)
    wrong = int(np.sum((y_hat > 0.5) != (XOR_Y > 0.5)))
    if wrong:
        fb.fail(
            f"After train_xor(epochs=2000, lr=2.0, seed={seed}) the network gets "
            f"{wrong} of the 4 XOR examples wrong (outputs {fb.show(y_hat.ravel())}, "
            "targets [0, 1, 1, 0]). Check that train_step lowers the loss, and that "
            "train_xor uses the epochs, lr and seed it is given.")


@pytest.mark.points(3)
def test_train_xor__solves_xor(ch04):
    _check_solves_xor(ch04, 0)


@pytest.mark.points(1)
def test_train_xor__solves_xor_other_seed(ch04):
    _check_solves_xor(ch04, 3)
