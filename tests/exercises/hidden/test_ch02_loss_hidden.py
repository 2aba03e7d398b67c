"""Hidden graded tests for chapter 2 (run by the instructor at the end)."""

import math

import numpy as np
import pytest

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_mse__batch_of_one(ch02):
    got = fb.as_float("mse", ch02.mse(np.array([[1.0, 2.0, 4.0]]),
                                      np.array([[0.0, 2.0, 1.0]])))
    fb.check_close("mse", got, 10.0 / 3.0, rtol=1e-12,
                   factors={3.0: "the loss is a sum; the course's MSE averages over "
                            "every entry (here 3)."},
                   context="for one example with 3 outputs")


@pytest.mark.points(1)
def test_cross_entropy_from_logits__many_classes(ch02):
    logits = np.array([[0.5, -1.0, 2.0, 0.0, 1.0, -2.0, 3.0],
                       [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                       [-4.0, 2.0, 0.0, 0.0, 0.0, 0.0, -1.0]])
    labels = np.array([6, 0, 1])
    expected = 0.0
    for row, label in zip(logits, labels):
        expected += math.log(sum(math.exp(v) for v in row)) - row[label]
    got = fb.as_float("loss", ch02.cross_entropy_from_logits(labels, logits))
    fb.check_close("loss", got, expected / 3, rtol=1e-9,
                   factors={3.0: "the loss is a sum over the 3 examples; the course "
                            "averages over the batch."},
                   context="for 3 examples and 7 classes")
