"""Hidden graded tests for chapter 12 (run by the instructor at the end)."""

import numpy as np
import pytest
from oracles import fd, squared_error_mean

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import Rng

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_reconstruction_loss__one_row(ch12):
    X, X_hat = np.array([[0.0, 1.0, 0.5]]), np.array([[0.5, 1.0, 0.0]])
    fb.check_close("loss", ch12.reconstruction_loss(X, X_hat),
                   squared_error_mean(X, X_hat), rtol=1e-12, context="for one row")


@pytest.mark.points(1)
def test_reconstruction_loss_grad__tall_batch(ch12):
    rng = np.random.default_rng(1211)
    X, X_hat = rng.uniform(size=(9, 2)), rng.uniform(size=(9, 2))
    fb.check_close("dX_hat", ch12.reconstruction_loss_grad(X, X_hat),
                   fd(lambda p: squared_error_mean(X, p), X_hat), rtol=1e-5,
                   atol=1e-9, context="for a (9, 2) batch")


@pytest.mark.points(1)
def test_denoising_pair__input_unchanged(ch12):
    X = np.random.default_rng(1212).uniform(size=(3, 4))
    res = ch12.call("denoising_pair", X, 0.1, Rng(7))
    fb.check_unchanged("X", X, res.args[0], "denoising_pair must not modify X: "
                       "add the noise to a copy.")
    X_in, target = fb.unpack("denoising_pair", res.value, 2, ("X_in", "X_target"))
    fb.check_close("X_target", target, X, rtol=1e-12, context="(the clean X)")
    if np.allclose(X_in, X):
        fb.fail("X_in is X itself: the input of a denoising pair has noise added.")
