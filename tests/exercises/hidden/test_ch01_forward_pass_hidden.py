"""Hidden graded tests for chapter 1 (run by the instructor at the end)."""

import numpy as np
import pytest
from engine_io import dense

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_sigmoid__integer_input(ch01):
    z = np.array([[-3, 0, 2]])
    expected = 1.0 / (1.0 + np.exp(-z.astype(float)))
    fb.check_close("sigmoid(z)", ch01.sigmoid(z), expected, rtol=1e-9,
                   context="for an array of integers",
                   hint="The result holds floats whatever the input's dtype.")


@pytest.mark.points(1)
def test_Dense_forward__batch_of_one_and_inputs_unchanged(ch01):
    rng = np.random.default_rng(111)
    layer, W, b = dense(ch01, 4, 2, seed=9)
    X = rng.normal(size=(1, 4))
    res = layer.call("forward", X.copy())
    fb.check_unchanged("X", X, res.args[0])
    fb.check_close("Z", res.value, X @ W + b, rtol=1e-10,
                   context="for a batch of one example",
                   hint="A batch of one is still a 2-D array of one row.")
