"""Hidden graded tests for chapter 1 (run by the instructor at the end)."""

import numpy as np
import pytest

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_sigmoid__integer_input(ch01):
    z = np.array([[-3, 0, 2]])
    expected = 1.0 / (1.0 + np.exp(-z.astype(float)))
    fb.check_close("sigmoid(z)", ch01.sigmoid(z), expected, rtol=1e-9,
                   context="for an integer array z = [[-3, 0, 2]]",
                   hint="Convert z to float first (np.asarray(z, dtype=float)).")


@pytest.mark.points(1)
def test_mlp_forward__does_not_modify_inputs(ch01):
    rng = np.random.default_rng(111)
    X = rng.normal(size=(3, 2))
    params = {"W1": rng.normal(size=(2, 5)), "b1": rng.normal(size=5),
              "W2": rng.normal(size=(5, 3)), "b2": rng.normal(size=3)}
    res = ch01.call("mlp_forward", X.copy(), {k: v.copy() for k, v in params.items()})
    fb.check_unchanged("X", X, res.args[0])
    for key, value in params.items():
        fb.check_unchanged(f"params['{key}']", value, res.args[1][key])
