"""Hidden graded tests for chapter 6 (run by the instructor at the end)."""

import math

import numpy as np
import pytest
from engine_io import read_dict

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import Rng

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_clip_by_global_norm__exactly_at_max_norm(ch06):
    grads = {"dW": np.array([[0.6, 0.0], [0.0, 0.0]]), "db": np.array([0.8])}
    res = ch06.call("clip_by_global_norm", {k: v.copy() for k, v in grads.items()},
                    1.0)
    fb.check_close("the returned norm", fb.as_float("norm", res.value), 1.0,
                   rtol=1e-12, context="when the global norm equals max_norm")
    for key, g in grads.items():
        fb.check_close(f"grads['{key}']", res.args[0][key], g, rtol=1e-12,
                       context="when the global norm equals max_norm")


@pytest.mark.points(1)
def test_he_init__each_layer_its_own_fan_in(ch06):
    layers = [ch06.Dense(400, 100, seed=0), ch06.Dense(100, 300, seed=1)]
    model = ch06.Sequential(layers)
    ch06.initialize(model, "he", 3)
    for layer, n_in in zip(layers, (400, 100)):
        W = read_dict(layer, "params", ("W", "b"), "a Dense layer")["W"]
        std = math.sqrt(2.0 / n_in)
        got = float(W.std())
        if abs(got - std) > 6 * std / math.sqrt(2 * W.size):
            fb.fail(f"With initialize(model, 'he') a Dense layer with fan-in {n_in} "
                    f"got weights of standard deviation {got:.4g}; He's "
                    f"sqrt(2 / n_in) is {std:.4g}.")


@pytest.mark.points(1)
def test_Dropout_backward__twice_with_one_mask(ch06):
    M = (np.random.default_rng(661).random((7, 5)) >= 0.5) * 2.0
    dY = np.random.default_rng(662).normal(size=M.shape)
    layer = ch06.Dropout(0.5, seed=9)
    layer.call("__setattr__", "mask", M)
    first = fb.as_array("dX", layer.backward(dY))
    second = fb.as_array("dX", layer.backward(dY))
    fb.check_close("dX of the first backward", first, dY * M, rtol=1e-12,
                   atol=1e-15, context="(dY times the layer's mask)")
    fb.check_close("dX of a second backward", second, first, rtol=0, atol=0,
                   context="(no forward in between, so the same mask)")


@pytest.mark.points(1)
def test_Dropout_forward__p_zero_and_p_high(ch06):
    X = np.random.default_rng(663).normal(size=(5, 4))
    fb.check_close("Y", ch06.Dropout(0.0, seed=9).forward(X), X, rtol=1e-12,
                   context="with p = 0 (nothing is dropped)")
    Y = fb.as_array("Y", ch06.Dropout(0.9, seed=10).forward(np.ones((100, 100))))
    dropped = float(np.mean(Y == 0))
    if abs(dropped - 0.9) > 6 * math.sqrt(0.09 / Y.size):
        fb.fail(f"With p = 0.9 about 90% of the entries must be dropped; you "
                f"dropped {dropped:.1%}.")
    fb.check_close("the kept entries", Y[Y != 0], np.full(int(np.sum(Y != 0)), 10.0),
                   rtol=1e-9, context="with p = 0.9 (scaled by 1 / (1 - p) = 10)")


@pytest.mark.points(1)
def test_xavier_init__uses_rng(ch06):
    a = fb.as_array("W", ch06.xavier_init(6, 4, Rng(21)))
    b = fb.as_array("W", ch06.xavier_init(6, 4, Rng(21)))
    c = fb.as_array("W", ch06.xavier_init(6, 4, Rng(22)))
    if not np.array_equal(a, b) or np.array_equal(a, c):
        fb.fail("xavier_init must take its random numbers from the rng argument, so "
                "the same seed gives the same weights and another seed other ones.")


@pytest.mark.points(1)
def test_dead_relu_fraction__one_unit_stuck_at_zero(ch06):
    Z = np.array([[0.5, 0.0, -1.0, 2.0],
                  [-0.5, 0.0, 3.0, -2.0],
                  [1.5, 0.0, -1.0, -0.1]])
    got = fb.as_float("fraction", ch06.dead_relu_fraction(Z))
    fb.check_close("fraction", got, 0.25, rtol=1e-12,
                   context="(one unit of four is exactly 0 on every example)")
