"""Hidden graded tests for chapter 4 (run by the instructor at the end)."""

import numpy as np
import pytest
from oracles import XOR_X, XOR_Y, two_layer_forward

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_train_xor__solves_xor_third_seed(ch04):
    p = ch04.with_timeout(60.0).train_xor(2000, 2.0, 11)
    if not isinstance(p, dict) or any(k not in p for k in ("W1", "b1", "W2", "b2")):
        fb.fail(f"train_xor must return the params dict, got {fb.describe_type(p)}.")
    y_hat = two_layer_forward(p, XOR_X)
    if np.any((y_hat > 0.5) != (XOR_Y > 0.5)):
        fb.fail(f"train_xor(2000, 2.0, seed=11) does not solve XOR: outputs "
                f"{fb.show(y_hat.ravel())}.")


@pytest.mark.points(1)
def test_train_step__loss_decreases_over_steps(ch04):
    params = ch04.init_params(2, 4, 1, 2)
    losses = []
    for _ in range(50):
        res = ch04.call("train_step", params, XOR_X, XOR_Y, 1.0)
        losses.append(fb.as_float("loss", res.value))
        params = res.args[0]
    if not losses[-1] < losses[0]:
        fb.fail(f"50 steps of train_step with lr = 1 did not lower the XOR loss "
                f"({losses[0]:.4g} -> {losses[-1]:.4g}).")
