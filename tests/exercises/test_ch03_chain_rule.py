"""Graded tests for chapter 3: backward passes of the engine's layers.

Every backward pass is checked against centred finite differences computed by
the oracles (``oracles.py``, asked through ``expected`` or by name: a bundle
holds their values, not their code), never with the student's
``numerical_gradient``. The inputs of every test that asks an oracle come from
a generator seeded in that test.
The dense layer is tested with shapes that all differ (N=5, D_in=3, D_out=2)
and with a square weight matrix, whose transpose the shapes would allow: the
values must catch it.

The convention under test: ``backward`` receives a ``dY`` that already
carries the ``1/N`` of the batch-mean loss and does not divide again; it
overwrites ``grads`` and never changes ``params``.
"""

import math

import numpy as np
import pytest
from engine_io import dense, read_dict
from expected import expected
from oracles import dense_grads

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import Fn
from course_lib.grading.checking.testfns import GRADIENTS

RNG = np.random.default_rng(303)


def _backward(layer, Z, dY):
    layer.forward(Z)
    return layer.backward(dY)


# ---------------------------------------------------------------- Tanh.backward

TANH_RULE = ("d tanh(z) / dz = 1 - tanh(z)^2, and the layer cached A = tanh(Z): "
             "dZ = dY * (1 - A^2), element by element.")


@pytest.mark.points(2)
def test_Tanh_backward__matches_finite_differences(ch03):
    rng = np.random.default_rng(3031)
    Z, dY = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    want = expected("ch03", "Tanh_backward", "random (3, 4)", Z, dY)
    got = fb.check_shape("dZ", _backward(ch03.Tanh(), Z, dY), Z.shape)
    if np.allclose(got, dY):
        fb.fail("Tanh.backward returned dY unchanged: the chain rule multiplies it "
                "by the derivative of tanh at each entry.", rule=TANH_RULE)
    if np.allclose(got, dY * (1 - Z**2)):
        fb.fail("Your derivative is written with the input Z where it needs the "
                "output tanh(Z).", rule=TANH_RULE)
    fb.check_close("dZ", got, want, rtol=1e-5, atol=1e-9,
                   context="(compared with finite differences)",
                   hint="The slope of tanh is 1 at 0 and falls towards 0 on both "
                   "sides.", rule=TANH_RULE)


@pytest.mark.points(1)
def test_Tanh_backward__hand_worked(ch03):
    Z = np.array([[0.0, math.atanh(0.5), -math.atanh(0.5)]])
    dY = np.array([[1.0, 2.0, 4.0]])
    fb.check_close("dZ", _backward(ch03.Tanh(), Z, dY), np.array([[1.0, 1.5, 3.0]]),
                   rtol=1e-9, context="for tanh(Z) = 0, 1/2 and -1/2",
                   hint="Where tanh(z) = 1/2 the slope is 3/4.", rule=TANH_RULE)


# ---------------------------------------------------------------- LeakyReLU.backward

LEAKY_RULE = "f'(z) = 1 for z > 0 and alpha for z <= 0; dZ = dY * f'(Z)."


@pytest.mark.points(2)
def test_LeakyReLU_backward__matches_definition(ch03):
    Z = np.array([[-1.0, 0.0, 2.0, 0.5, -3.0], [4.0, -0.1, 0.0, 1e-9, 7.0],
                  [-2.0, 3.0, -5.0, 0.0, 1.0]])
    alpha = 0.1
    dY = np.random.default_rng(3032).normal(size=Z.shape)
    want = expected("ch03", "LeakyReLU_backward", "(3, 5), alpha 0.1", Z, dY, alpha)
    got = fb.check_shape("dZ", _backward(ch03.LeakyReLU(alpha), Z, dY), Z.shape)
    neg = Z < 0
    if np.allclose(got[neg], 0.0):
        fb.fail("Your LeakyReLU.backward blocks the gradient where Z < 0, as a plain "
                "ReLU would: the leaky side has slope alpha.", rule=LEAKY_RULE)
    if np.allclose(got, np.where(Z > 0, 1.0, alpha)):
        fb.fail("You returned the derivative alone: multiply it by the incoming "
                "gradient dY (chain rule).", rule=LEAKY_RULE)
    zero = Z == 0
    if np.allclose(got[~zero], want[~zero]) and not np.allclose(got, want):
        fb.fail("LeakyReLU.backward is right except where Z == 0: the course takes "
                "the slope there from the side the forward pass uses for z <= 0.",
                rule=LEAKY_RULE)
    fb.check_close("dZ", got, want, rtol=1e-12,
                   hint="The slope depends on the sign of the cached input Z.",
                   rule=LEAKY_RULE)


@pytest.mark.points(1)
def test_LeakyReLU_backward__does_not_modify_dY(ch03):
    Z = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])
    dY = np.arange(1.0, 7.0).reshape(2, 3)
    layer = ch03.LeakyReLU(0.5)
    layer.forward(Z)
    res = layer.call("backward", dY.copy())
    fb.check_unchanged("dY", dY, res.args[0], "Build dZ as a new array.")
    fb.check_close("dZ", res.value,
                   expected("ch03", "LeakyReLU_backward", "(2, 3), alpha 0.5", Z,
                            dY, 0.5), rtol=1e-12, rule=LEAKY_RULE)


# ---------------------------------------------------------------- Dense.backward

N, D_IN, D_OUT = 5, 3, 2
DW_RULE = ("dW has the shape of W (D_in, D_out) and sums over the batch: "
           "dW = X^T dY, (D_in, N) times (N, D_out).")
DX_RULE = ("dX has the shape of X (N, D_in): dX = dY W^T, (N, D_out) times "
           "(D_out, D_in).")
DB_RULE = "db has the shape of b (D_out,): the sum of dY over the batch axis."


def _dense_case(ch03, n=N, d_in=D_IN, d_out=D_OUT, seed=0):
    rng = np.random.default_rng(seed)
    layer, W, b = dense(ch03, d_in, d_out, seed=seed)
    X = rng.normal(size=(n, d_in))
    dY = rng.normal(size=(n, d_out))
    layer.forward(X)
    dX = layer.backward(dY)
    grads = read_dict(layer, "grads", ("W", "b"), "Dense")
    return X, W, b, dY, dX, grads


@pytest.mark.points(2)
def test_Dense_backward__dW_matches_finite_differences(ch03):
    X, W, b, dY, _, grads = _dense_case(ch03)
    _, want, _ = dense_grads(X, W, b, dY)
    fb.check_close("grads['W']", grads["W"], want, rtol=1e-6, atol=1e-8,
                   factors=fb.batch_factors(N, "dW"),
                   context="(compared with finite differences)",
                   hint="Each weight W[k, j] connects input k to output j, in "
                   "every example of the batch.", rule=DW_RULE)


@pytest.mark.points(2)
def test_Dense_backward__dX_matches_finite_differences(ch03):
    X, W, b, dY, dX, _ = _dense_case(ch03, seed=1)
    want, _, _ = dense_grads(X, W, b, dY)
    fb.check_close("dX", dX, want, rtol=1e-6, atol=1e-8,
                   factors=fb.batch_factors(N, "dX"),
                   context="(compared with finite differences)",
                   hint="Input k of example i reaches every output j through "
                   "W[k, j].", rule=DX_RULE)


@pytest.mark.points(1)
def test_Dense_backward__db_matches_finite_differences(ch03):
    X, W, b, dY, _, grads = _dense_case(ch03, seed=2)
    _, _, want = dense_grads(X, W, b, dY)
    fb.check_close("grads['b']", grads["b"], want, rtol=1e-6, atol=1e-8,
                   factors=fb.batch_factors(N, "db"),
                   context="(compared with finite differences)",
                   hint="Each bias is added to every example of the batch.",
                   rule=DB_RULE)


@pytest.mark.points(2)
def test_Dense_backward__square_weights(ch03):
    X, W, b, dY, dX, grads = _dense_case(ch03, n=4, d_in=3, d_out=3, seed=3)
    eX, eW, _ = dense_grads(X, W, b, dY)
    square = " With a square W the shapes cannot catch a transpose; the values can."
    fb.check_close("grads['W']", grads["W"], eW, rtol=1e-6, atol=1e-8,
                   context="for a square W (3, 3)", rule=DW_RULE + square)
    fb.check_close("dX", dX, eX, rtol=1e-6, atol=1e-8,
                   context="for a square W (3, 3)", rule=DX_RULE + square)


@pytest.mark.points(2)
def test_Dense_backward__overwrites_grads_and_keeps_params(ch03):
    rng = np.random.default_rng(4)
    layer, W, b = dense(ch03, D_IN, D_OUT, seed=4)
    X, dY = rng.normal(size=(N, D_IN)), rng.normal(size=(N, D_OUT))
    _, eW, eb = dense_grads(X, W, b, dY)
    for _ in range(2):
        layer.forward(X)
        layer.backward(dY)
    params = read_dict(layer, "params", ("W", "b"), "Dense")
    if not (np.array_equal(params["W"], W) and np.array_equal(params["b"], b)):
        fb.fail("Dense.backward changed self.params: a backward pass only computes "
                "gradients; updating the weights is the optimizer's job.")
    grads = read_dict(layer, "grads", ("W", "b"), "Dense")
    for key, want in (("W", eW), ("b", eb)):
        got = fb.check_shape(f"grads['{key}']", grads[key], want.shape)
        if np.allclose(got, 2 * want):
            fb.fail(f"After two identical backward calls grads['{key}'] is twice "
                    "the gradient: each backward pass must replace the stored "
                    "gradients, not add to them.")
        fb.check_close(f"grads['{key}']", got, want, rtol=1e-6, atol=1e-8,
                       context="after two identical forward/backward calls")


# ---------------------------------------------------------------- numerical_gradient

NUMGRAD_RULE = ("grad[j] = (f(x + h e_j) - f(x - h e_j)) / (2 h) for every index j "
                "of x, with x[j] put back to its old value after each pair.")


def _check_numgrad(ch03, name, x, context):
    want = GRADIENTS[name](x)
    res = ch03.call("numerical_gradient", Fn(name), x.copy())
    got = fb.check_shape("grad", res.value, x.shape,
                         "Return one partial derivative per entry of x.")
    fb.check_close("grad", got, want, rtol=1e-6, atol=1e-7, context=context,
                   hint="Nudge one entry at a time, both ways, and evaluate f "
                   "each time.", rule=NUMGRAD_RULE)
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
    res = _check_numgrad(ch03, "quadratic", x, "for f(x) = sum(x**2)")
    fb.check_unchanged("x", x, res.args[1],
                       "The in-place contract: after nudging an entry, put its "
                       "original value back.", rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- backward


@pytest.mark.points(2)
def test_backward__runs_every_layer_in_reverse(ch03):
    rng = np.random.default_rng(8)
    l1, W1, b1 = dense(ch03, 3, 4, seed=8)
    l2, W2, b2 = dense(ch03, 4, 2, seed=9)
    layers = [l1, ch03.Tanh(), l2, ch03.Sigmoid()]
    X, dY = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    want_dX, want_dW1 = expected("ch03", "backward", "Dense Tanh Dense Sigmoid",
                                 {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, X, dY)
    ch03.forward(layers, X)
    dX = ch03.backward(layers, dY)
    rule = ("Walk the list from the last layer to the first; each layer's dX is "
            "the dY of the layer before it.")
    fb.check_close("backward(layers, dY)", dX, want_dX, rtol=1e-5, atol=1e-8,
                   context="for Dense(3, 4), Tanh, Dense(4, 2), Sigmoid "
                   "(finite differences)",
                   hint="The result is the gradient with respect to the first "
                   "layer's input.", rule=rule)
    dW1 = read_dict(l1, "grads", ("W", "b"), "the first Dense")["W"]
    fb.check_close("first layer's grads['W']", dW1, want_dW1,
                   rtol=1e-5, atol=1e-8, context="after backward(layers, dY)",
                   hint="Every layer of the list runs its backward once.", rule=rule)
