"""Graded tests for chapter 1: the forward pass, the first pieces of the engine.

Oracles: the sigmoid's closed form evaluated with the ``math`` module, the
leaky ReLU's definition entry by entry, and explicit Python loops over
neurons for the dense layer and the network (``oracles.py``, asked through
``expected``: a bundle holds their values, not their code, since the sigmoid
by the sign of z is exercise 1.1). Weight matrices are set to known random
numbers, square ones included, so that a transposed product is caught by its
values, not only by its shape. Random inputs come from generators seeded in
each test.
"""

import math

import numpy as np
import pytest
from engine_io import cached, dense, read_dict
from expected import expected

from course_lib.grading.checking import feedback as fb

STABLE_HINT = ("exp of a large positive number does not fit in a float: for very "
               "negative z, exp(-z) overflows.")
STABLE_RULE = ("Only ever call exp on a number <= 0: sigma(z) = 1 / (1 + e^(-z)) "
               "for z >= 0 and the equal form e^z / (1 + e^z) for z < 0, so both "
               "use e^(-|z|).")


# ---------------------------------------------------------------- sigmoid


@pytest.mark.points(1)
def test_sigmoid__known_values(ch01):
    z = np.array([0.0, math.log(3.0), -math.log(3.0), 2.0, -0.5])
    want = np.array([0.5, 0.75, 0.25, *expected("ch01", "sigmoid", "2 and -0.5",
                                                z[3:])])
    got = ch01.sigmoid(z)
    with fb.with_rule("sigma(z) = 1 / (1 + e^(-z)): sigma(0) = 1/2, sigma(ln 3) = 3/4 "
                      "and sigma(-z) = 1 - sigma(z)."):
        fb.check_close("sigmoid(z)", got, want, rtol=1e-9,
                       context="for five moderate z (0, ln 3, -ln 3, 2, -0.5)",
                       hint="Every output lies strictly between 0 and 1.")


@pytest.mark.points(2)
def test_sigmoid__large_inputs_without_warnings(ch01):
    z = np.array([-1e4, -1000.0, -710.0, -40.0, 0.0, 40.0, 710.0, 1000.0, 1e4])
    res = ch01.call("sigmoid", z)
    with fb.with_rule(STABLE_RULE):
        fb.check_no_warnings("sigmoid for |z| up to 1e4", res.warnings, STABLE_HINT)
        got = fb.check_finite("sigmoid(z)", res.value, "for |z| up to 1e4",
                              STABLE_HINT)
        fb.check_close("sigmoid(z)", got,
                       expected("ch01", "sigmoid", "|z| up to 1e4", z), rtol=1e-9,
                       atol=1e-300, context="for |z| up to 1e4",
                       hint="Far from 0 the sigmoid is 0 (left) or 1 (right).")


@pytest.mark.points(1)
def test_sigmoid__any_shape(ch01):
    z = np.random.default_rng(1011).normal(scale=3.0, size=(2, 3, 4))
    got = ch01.sigmoid(z)
    fb.check_close("sigmoid(z)", got,
                   expected("ch01", "sigmoid", "random (2, 3, 4)", z), rtol=1e-9,
                   context="for z of shape (2, 3, 4)",
                   hint="The sigmoid acts on every entry: the output has the "
                   "shape of z.")


# ---------------------------------------------------------------- LeakyReLU


@pytest.mark.points(2)
def test_LeakyReLU_forward__matches_definition(ch01):
    Z = np.array([[-2.0, 0.0, 3.0, -0.5], [1e-3, -4.0, 0.25, 7.0],
                  [-1e-3, 2.0, -6.0, 0.0]])
    alpha = 0.2
    want = expected("ch01", "LeakyReLU_forward", "mixed signs, alpha 0.2", Z, alpha)
    got = fb.check_shape("A", ch01.LeakyReLU(alpha).forward(Z), Z.shape)
    neg = Z < 0
    if np.allclose(got[neg], 0.0) and np.any(want[neg]):
        fb.fail("Your LeakyReLU sets negative inputs to 0, as a plain ReLU does: "
                "a leaky ReLU keeps a small slope alpha there.",
                rule="f(z) = z for z > 0 and f(z) = alpha z for z <= 0.")
    with fb.with_rule("f(z) = z for z > 0 and f(z) = alpha z for z <= 0; "
                      "alpha is the layer's own attribute."):
        fb.check_close("A", got, want, rtol=1e-12,
                       context=f"for alpha = {alpha} and a mix of signs",
                       hint="Positive entries pass unchanged; the others are "
                       "scaled by alpha.")


@pytest.mark.points(1)
def test_LeakyReLU_forward__caches_input_and_leaves_it(ch01):
    Z = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])
    layer = ch01.LeakyReLU(0.1)
    res = layer.call("forward", Z.copy())
    fb.check_unchanged("Z", Z, res.args[0],
                       "Build the output as a new array.")
    kept = cached(layer, "Z")
    if kept is None:
        fb.fail("After forward(Z), the layer must keep its input as self.Z: the "
                "backward pass of chapter 3 needs it.")
    fb.check_close("self.Z", kept, Z, rtol=0, atol=0,
                   hint="Cache the input of this forward call.")


# ---------------------------------------------------------------- Dense.__init__


@pytest.mark.points(1)
def test_Dense_init__shapes_and_zero_grads(ch01):
    layer = ch01.Dense(3, 5, seed=0)
    params = read_dict(layer, "params", ("W", "b"), "Dense(3, 5)")
    grads = read_dict(layer, "grads", ("W", "b"), "Dense(3, 5)")
    fb.check_shape("params['W']", params["W"], (3, 5),
                   rule="W maps D_in inputs to D_out outputs: shape (D_in, D_out).")
    fb.check_shape("params['b']", params["b"], (5,),
                   rule="One bias per output unit: shape (D_out,).")
    fb.check_close("params['b']", params["b"], np.zeros(5), rtol=0,
                   hint="The bias starts at zero.")
    for key in ("W", "b"):
        fb.check_close(f"grads['{key}']", grads[key], np.zeros_like(params[key]),
                       rtol=0, hint="Gradients start at zero, one array per "
                       "parameter, with its shape.")


@pytest.mark.points(1)
def test_Dense_init__weight_scale(ch01):
    n_in, n_out = 400, 300
    W = read_dict(ch01.Dense(n_in, n_out, seed=1), "params", ("W", "b"))["W"]
    W = fb.check_shape("params['W']", W, (n_in, n_out))
    std, mean = float(W.std()), float(W.mean())
    want = 1.0 / math.sqrt(n_in)
    if not (abs(std / want - 1.0) < 0.03 and abs(mean) < 3 * want / math.sqrt(W.size)):
        fb.fail(f"Dense({n_in}, {n_out}) drew weights with mean {mean:.3g} and "
                f"standard deviation {std:.3g}; the layer's weights have mean 0 and "
                f"a standard deviation that shrinks with the number of inputs.",
                rule=f"std = 1 / sqrt(n_in) = {want:.3g} here; a variance of "
                "1 / n_in is a standard deviation of 1 / sqrt(n_in).")


@pytest.mark.points(1)
def test_Dense_init__seed_gives_the_same_weights(ch01):
    def weights(seed):
        return read_dict(ch01.Dense(4, 3, seed=seed), "params", ("W", "b"))["W"]

    a, b, c = weights(7), weights(7), weights(8)
    if not np.array_equal(a, b):
        fb.fail("Two Dense(4, 3, seed=7) layers got different weights: draw them "
                "from a generator made from the seed, not from global randomness.",
                rule="rng = a generator built from seed, then W from rng.")
    if np.array_equal(a, c):
        fb.fail("Dense(4, 3, seed=7) and Dense(4, 3, seed=8) got the same weights: "
                "the seed must decide them.")


# ---------------------------------------------------------------- Dense.forward

DENSE_RULE = ("Z = X W + b: (N, D_in) times (D_in, D_out) gives (N, D_out), and b "
              "is added to every row.")


@pytest.mark.points(2)
def test_Dense_forward__matches_loops(ch01):
    layer, W, b = dense(ch01, 3, 2, seed=1)
    X = np.random.default_rng(1012).normal(size=(5, 3))
    got = layer.forward(X)
    with fb.with_rule(DENSE_RULE):
        fb.check_close("Z", got, expected("ch01", "Dense_forward", "(5, 3) x (3, 2)",
                                          X, W, b), rtol=1e-10,
                       context="for X (5, 3) and W (3, 2)",
                       hint="Each output unit j adds up its inputs weighted by "
                       "column j of W, then its bias.")


@pytest.mark.points(1)
def test_Dense_forward__square_weights(ch01):
    layer, W, b = dense(ch01, 3, 3, seed=2)
    X = np.random.default_rng(1013).normal(size=(4, 3))
    got = layer.forward(X)
    with fb.with_rule(DENSE_RULE + " With a square W the shapes cannot tell W "
                      "from its transpose; the values can."):
        fb.check_close("Z", got, expected("ch01", "Dense_forward", "square W (3, 3)",
                                          X, W, b), rtol=1e-10,
                       context="for a square W (3, 3)",
                       hint="Column j of W holds the weights of output unit j.")


@pytest.mark.points(1)
def test_Dense_forward__caches_input(ch01):
    layer, _, _ = dense(ch01, 2, 3, seed=3)
    rng = np.random.default_rng(1014)
    X1, X2 = rng.normal(size=(4, 2)), rng.normal(size=(6, 2))
    layer.forward(X1)
    layer.forward(X2)
    kept = cached(layer, "X")
    if kept is None:
        fb.fail("After forward(X), a Dense layer must keep its input as self.X: "
                "its backward pass (chapter 3) computes the weight gradient from "
                "it.")
    fb.check_close("self.X", kept, X2, rtol=0, atol=0,
                   hint="Keep the input of the latest forward call.")


# ---------------------------------------------------------------- forward


@pytest.mark.points(2)
def test_forward__runs_every_layer_in_order(ch01):
    l1, W1, b1 = dense(ch01, 2, 4, seed=4)
    l2, W2, b2 = dense(ch01, 4, 3, seed=5)
    layers = [l1, ch01.LeakyReLU(0.1), l2, ch01.Sigmoid()]
    X = np.random.default_rng(1015).normal(size=(5, 2))
    want = expected("ch01", "forward", "Dense LeakyReLU Dense Sigmoid",
                    {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, X, 0.1)
    got = ch01.forward(layers, X)
    with fb.with_rule("The output of layer i is the input of layer i + 1; the "
                      "result is the last layer's output."):
        fb.check_close("forward(layers, X)", got, want, rtol=1e-9,
                       context="for Dense(2, 4), LeakyReLU, Dense(4, 3), Sigmoid",
                       hint="Every layer of the list runs once, first to last.")
