"""Hidden graded tests for chapter 6 (run by the instructor at the end)."""

import numpy as np
import pytest

from course_lib.grading.checking import feedback as fb
from course_lib.grading.checking.remote import Rng

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_clip_by_global_norm__exactly_at_max_norm(ch06):
    grads = {"dW": np.array([[0.6, 0.0], [0.0, 0.0]]), "db": np.array([0.8])}
    out = fb.unpack("clip_by_global_norm", ch06.clip_by_global_norm(grads, 1.0), 2,
                    ("clipped", "norm"))
    for key, g in grads.items():
        fb.check_close(f"clipped['{key}']", out[0][key], g, rtol=1e-12,
                       context="when the global norm equals max_norm")


@pytest.mark.points(1)
def test_dropout_forward__p_zero_keeps_everything(ch06):
    X = np.random.default_rng(661).normal(size=(5, 4))
    out = fb.unpack("dropout_forward", ch06.dropout_forward(X, 0.0, Rng(9), True),
                    2, ("out", "mask"))
    fb.check_close("out", out[0], X, rtol=1e-12, context="with p = 0")
    fb.check_close("mask", out[1], np.ones_like(X), rtol=1e-12, context="with p = 0")
