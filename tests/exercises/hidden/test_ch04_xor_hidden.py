"""Hidden graded tests for chapter 4 (run by the instructor at the end)."""

import numpy as np
import pytest
from oracles import XOR_X, XOR_Y

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_train_xor__solves_xor_third_seed(ch04):
    net = ch04.with_timeout(30.0).train_xor(11)
    got = fb.as_array("predict(XOR_X)", net.predict(XOR_X))
    if got.shape != XOR_Y.shape or not np.array_equal(got, XOR_Y):
        fb.fail("train_xor does not solve XOR from a third seed.")


@pytest.mark.points(1)
def test_NeuralNetwork_train__loss_falls_and_inputs_unchanged(ch04):
    net = ch04.NeuralNetwork(2, 4, 1, 1.0, seed=2)
    res = net.call("train", XOR_X.copy(), XOR_Y.copy(), 300)
    fb.check_unchanged("X", XOR_X, res.args[0])
    fb.check_unchanged("y", XOR_Y, res.args[1])
    losses = fb.as_array("losses", res.value)
    if losses.shape != (300,) or not losses[-1] < 0.5 * losses[0]:
        fb.fail("300 epochs of training on XOR with learning rate 1 should at least "
                "halve the loss.")
