"""Hidden graded tests for chapter 2 (run by the instructor at the end)."""

import math

import numpy as np
import pytest

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_MSE_loss__batch_of_one(ch02):
    got = fb.as_float("loss", ch02.MSE().loss(np.array([[1.0, 2.0, 4.0]]),
                                              np.array([[0.0, 2.0, 1.0]])))
    fb.check_close("loss", got, 10.0 / 3.0, rtol=1e-12,
                   factors={3.0: "the loss is a sum; the course's MSE averages over "
                            "every entry."},
                   context="for a batch of one example with several outputs")


@pytest.mark.points(1)
def test_SoftmaxCrossEntropy_loss__many_classes(ch02):
    logits = np.array([[0.5, -1.0, 2.0, 0.0, 1.0, -2.0, 3.0],
                       [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                       [-4.0, 2.0, 0.0, 0.0, 0.0, 0.0, -1.0]])
    labels = np.array([6, 0, 1])
    expected = 0.0
    for row, label in zip(logits, labels):
        expected += math.log(sum(math.exp(v) for v in row)) - row[label]
    got = fb.as_float("loss", ch02.SoftmaxCrossEntropy().loss(labels, logits))
    fb.check_close("loss", got, expected / 3, rtol=1e-9,
                   factors={3.0: "the loss is a sum over the examples; the course "
                            "averages over the batch."},
                   context="for more classes than the public tests use")


@pytest.mark.points(1)
def test_SoftmaxCrossEntropy_grad__rows_sum_to_zero(ch02):
    rng = np.random.default_rng(222)
    logits = rng.normal(scale=3.0, size=(4, 6))
    labels = np.array([5, 0, 2, 2])
    got = fb.check_shape("dY", ch02.SoftmaxCrossEntropy().grad(labels, logits),
                         (4, 6))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    p[np.arange(4), labels] -= 1.0
    fb.check_close("dY", got, p / 4, rtol=1e-9, atol=1e-12,
                   context="for a wider batch (each row of the gradient sums to 0)")
