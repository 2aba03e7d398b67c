"""Hidden graded tests for chapter 3 (run by the instructor at the end)."""

import numpy as np
import pytest
from engine_io import dense, read_dict
from oracles import dense_grads, fd

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_Dense_backward__batch_of_one(ch03):
    rng = np.random.default_rng(331)
    layer, W, b = dense(ch03, 4, 3, seed=31)
    X, dY = rng.normal(size=(1, 4)), rng.normal(size=(1, 3))
    layer.forward(X)
    dX = layer.backward(dY)
    grads = read_dict(layer, "grads", ("W", "b"), "Dense")
    eX, eW, eb = dense_grads(X, W, b, dY)
    fb.check_close("dX", dX, eX, rtol=1e-6, atol=1e-8, context="for one example")
    fb.check_close("grads['W']", grads["W"], eW, rtol=1e-6, atol=1e-8,
                   context="for one example")
    fb.check_close("grads['b']", grads["b"], eb, rtol=1e-6, atol=1e-8,
                   context="for one example",
                   hint="db keeps the shape of b, whatever the batch size.")


@pytest.mark.points(1)
def test_Tanh_backward__saturated_units(ch03):
    Z = np.array([[-30.0, -5.0, 0.0, 5.0, 30.0]])
    dY = np.ones_like(Z)
    layer = ch03.Tanh()
    layer.forward(Z)
    res = layer.call("backward", dY)
    fb.check_no_warnings("Tanh.backward for large |Z|", res.warnings,
                         "Saturated units have a slope near 0, never a NaN.")
    expected = fd(lambda z: float(np.sum(np.tanh(z))), Z)
    fb.check_close("dZ", res.value, expected, rtol=1e-4, atol=1e-9,
                   context="for saturated units (large |Z|)")


@pytest.mark.points(1)
def test_LeakyReLU_backward__default_alpha(ch03):
    Z = np.array([[-2.0, 3.0], [0.5, -0.5]])
    dY = np.array([[10.0, 10.0], [10.0, 10.0]])
    layer = ch03.LeakyReLU()
    layer.forward(Z)
    fb.check_close("dZ", layer.backward(dY), np.where(Z > 0, dY, 0.01 * dY),
                   rtol=1e-12, context="with the default alpha")
