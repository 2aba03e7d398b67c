"""Hidden graded tests for chapter 10 (run by the instructor at the end)."""

import numpy as np
import pytest
from oracles import conv2d_grads, conv2d_loops, maxpool2d_grad

from course_lib.grading.checking import feedback as fb

pytestmark = pytest.mark.hidden


@pytest.mark.points(1)
def test_conv2d_forward__one_by_one_kernel_wide_image(ch10):
    rng = np.random.default_rng(1001)
    X, W, b = rng.normal(size=(3, 4, 2, 7)), rng.normal(size=(2, 4, 1, 1)), \
        rng.normal(size=2)
    fb.check_close("Y", ch10.conv2d_forward(X, W, b, 1, 0),
                   conv2d_loops(X, W, b, 1, 0), rtol=1e-6, atol=1e-9,
                   context="for a 1x1 kernel on 2x7 images")


@pytest.mark.points(1)
def test_conv2d_backward__stride_three_padding_two(ch10):
    rng = np.random.default_rng(1002)
    X, W, b = rng.normal(size=(1, 2, 5, 6)), rng.normal(size=(2, 2, 2, 2)), \
        rng.normal(size=2)
    dY = rng.normal(size=conv2d_loops(X, W, b, 3, 2).shape)
    out = fb.unpack("conv2d_backward", ch10.conv2d_backward(dY, X, W, 3, 2), 3,
                    ("dX", "dW", "db"))
    for name, got, want in zip(("dX", "dW", "db"), out,
                               conv2d_grads(dY, X, W, b, 3, 2)):
        fb.check_close(name, got, want, rtol=1e-6, atol=1e-8,
                       context="with stride 3 and padding 2")


@pytest.mark.points(1)
def test_conv2d_backward__inputs_unchanged(ch10):
    rng = np.random.default_rng(1003)
    X, W = rng.normal(size=(2, 1, 4, 4)), rng.normal(size=(1, 1, 3, 3))
    dY = rng.normal(size=(2, 1, 4, 4))
    res = ch10.call("conv2d_backward", dY, X, W, 1, 1)
    for name, before, after in zip(("dY", "X", "W"), (dY, X, W), res.args):
        fb.check_unchanged(name, before, after, "conv2d_backward must not modify "
                           "its arguments.")
    out = fb.unpack("conv2d_backward", res.value, 3, ("dX", "dW", "db"))
    for name, got, want in zip(("dX", "dW", "db"), out,
                               conv2d_grads(dY, X, W, np.zeros(1), 1, 1)):
        fb.check_close(name, got, want, rtol=1e-6, atol=1e-8,
                       context="(and the inputs left as they were)")


@pytest.mark.points(1)
def test_maxpool2d_backward__leftover_rows_get_nothing(ch10):
    X = np.random.default_rng(1004).normal(size=(2, 1, 5, 7))
    dY = np.random.default_rng(1005).normal(size=(2, 1, 2, 3))
    got = fb.check_shape("dX", ch10.maxpool2d_backward(dY, X, 2, None), X.shape)
    fb.check_close("dX", got, maxpool2d_grad(dY, X, 2, 2), rtol=1e-6, atol=1e-8,
                   context="for a 5x7 image and 2x2 windows (the last row and "
                           "column are in no window)")


@pytest.mark.points(1)
def test_conv2d_forward__dilation_three_with_stride_two(ch10):
    rng = np.random.default_rng(1006)
    X, W, b = rng.normal(size=(2, 2, 11, 10)), rng.normal(size=(3, 2, 2, 2)), \
        rng.normal(size=3)
    fb.check_close("Y", ch10.conv2d_forward(X, W, b, 2, 1, 3),
                   conv2d_loops(X, W, b, 2, 1, 3), rtol=1e-6, atol=1e-9,
                   context="for a 2x2 kernel with dilation 3 and stride 2")
