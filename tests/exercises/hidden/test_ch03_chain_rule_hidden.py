"""Hidden graded tests for chapter 3 (run by the instructor at the end)."""

import numpy as np
import pytest
from oracles import dense_grads

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_dense_backward__wide_layer(ch03):
    rng = np.random.default_rng(331)
    X, W, b = rng.normal(size=(2, 6)), rng.normal(size=(6, 9)), rng.normal(size=9)
    dZ = rng.normal(size=(2, 9))
    dX, dW, db = fb.unpack("dense_backward", ch03.dense_backward(dZ, X, W), 3,
                           ("dX", "dW", "db"))
    eX, eW, eb = dense_grads(X, W, b, dZ)
    ctx = "for X (2, 6), W (6, 9)"
    fb.check_close("dX", dX, eX, rtol=1e-6, atol=1e-8,
                   factors=fb.batch_factors(2, "dX"), context=ctx)
    fb.check_close("dW", dW, eW, rtol=1e-6, atol=1e-8,
                   factors=fb.batch_factors(2, "dW"), context=ctx)
    fb.check_close("db", db, eb, rtol=1e-6, atol=1e-8,
                   factors=fb.batch_factors(2, "db"), context=ctx)


@pytest.mark.points(1)
def test_backprop_two_layer__does_not_modify_params(ch03):
    rng = np.random.default_rng(332)
    X, y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    params = {"W1": rng.normal(size=(3, 5)), "b1": rng.normal(size=5),
              "W2": rng.normal(size=(5, 2)), "b2": rng.normal(size=2)}
    res = ch03.call("backprop_two_layer", X.copy(), y.copy(),
                    {k: v.copy() for k, v in params.items()})
    for key, value in params.items():
        fb.check_unchanged(f"params['{key}']", value, res.args[2][key],
                           "backprop_two_layer computes gradients only.")
