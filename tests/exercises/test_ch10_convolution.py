"""Graded tests for chapter 10: dilated convolution forward and backward,
max-pool backward (28 points, 5 more in hidden tests).

The references are the formula written as loops over every output entry and
finite differences of those loops (``oracles.py``), never the student's code.
Shapes differ in every dimension (N, C, F, H, W, k) so that a swapped axis
cannot pass by accident; random inputs have no ties for max pooling. Every
call passes ``dilation`` (1 where the page's convolution is meant).
"""

import numpy as np
import pytest
from oracles import (
    conv2d_db,
    conv2d_grads,
    conv2d_loops,
    maxpool2d_grad,
    maxpool2d_loops,
)

from course_lib.grading.checking import feedback as fb


def _conv_case(seed, N=2, C=2, H=6, W=5, F=3, k=3):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, k, k)),
            rng.normal(size=F))


def _out_shape(X, W, stride, padding, dilation=1):
    span = dilation * (W.shape[2] - 1) + 1          # pixels under the kernel
    return (X.shape[0], W.shape[0], (X.shape[2] + 2 * padding - span) // stride + 1,
            (X.shape[3] + 2 * padding - span) // stride + 1)


SHAPE_RULE = ("Y has shape (N, F, H', W') with H' = (H + 2 * padding - dilation "
              "* (k - 1) - 1) // stride + 1, and the same rule for the width.")


def _check_forward(ch10, X, W, b, stride, padding, context, dilation=1):
    got = fb.check_shape("Y", ch10.conv2d_forward(X, W, b, stride, padding,
                                                  dilation),
                         _out_shape(X, W, stride, padding, dilation), SHAPE_RULE)
    flipped = conv2d_loops(X, W[:, :, ::-1, ::-1], b, stride, padding, dilation)
    if W.shape[2] > 1 and np.allclose(got, flipped):
        fb.fail("Y is the convolution with the kernel flipped (rotated by 180 "
                "degrees). The convolution of this course, like PyTorch's, is a "
                "cross-correlation: W[f, c, p, q] multiplies Xp[n, c, stride * i + "
                "dilation * p, stride * j + dilation * q], with no flip.")
    want = conv2d_loops(X, W, b, stride, padding, dilation)
    if np.allclose(got, want - b.reshape(1, -1, 1, 1)):
        fb.fail(f"Y is right except for the bias {context}: add b[f] to every "
                "position of output channel f.")
    fb.check_close("Y", got, want, rtol=1e-6, atol=1e-9, context=context,
                   hint="Y[n, f, i, j] = b[f] + sum over c, p, q of W[f, c, p, q] "
                        "* Xp[n, c, stride * i + dilation * p, stride * j + "
                        "dilation * q].")


@pytest.mark.points(1)
def test_conv2d_forward__shape(ch10):
    X, W, b = _conv_case(1)
    fb.check_shape("Y", ch10.conv2d_forward(X, W, b, 1, 0, 1), (2, 3, 4, 3),
                   SHAPE_RULE)


@pytest.mark.points(2)
def test_conv2d_forward__hand_worked_no_flip(ch10):
    X = np.arange(9.0).reshape(1, 1, 3, 3)
    W = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    b = np.array([1.0])
    # top-left: 0*1 + 1*2 + 3*3 + 4*4 + 1 = 28; then 38, 58, 68
    want = np.array([[[[28.0, 38.0], [58.0, 68.0]]]])
    got = fb.check_shape("Y", ch10.conv2d_forward(X, W, b, 1, 0, 1), (1, 1, 2, 2),
                         SHAPE_RULE)
    if np.allclose(got, [[[[24.0, 34.0], [54.0, 64.0]]]]):
        fb.fail("For X = 0..8 as a 3x3 image and the kernel [[1, 2], [3, 4]] you "
                "flipped the kernel: the top-left output must be 0*1 + 1*2 + 3*3 + "
                "4*4 + 1 = 28 (cross-correlation, no flip), you gave 24.")
    fb.check_close("Y", got, want, rtol=1e-9,
                   context="for X = 0..8 as a 3x3 image, W = [[1, 2], [3, 4]], b = 1")


@pytest.mark.points(3)
def test_conv2d_forward__channels_and_filters(ch10):
    X, W, b = _conv_case(2)
    _check_forward(ch10, X, W, b, 1, 0, "for X (2, 2, 6, 5) and W (3, 2, 3, 3)")


@pytest.mark.points(3)
def test_conv2d_forward__stride_and_padding(ch10):
    X, W, b = _conv_case(3, H=7, W=6)
    _check_forward(ch10, X, W, b, 2, 1, "with stride 2 and padding 1")


@pytest.mark.points(3)
def test_conv2d_forward__dilation(ch10):
    X, W, b = _conv_case(11, H=9, W=8)
    _check_forward(ch10, X, W, b, 1, 2, "with dilation 2 (and padding 2)", 2)


def _backward(ch10, dY, X, W, stride, padding, dilation=1):
    out = fb.unpack("conv2d_backward", ch10.conv2d_backward(dY, X, W, stride,
                                                            padding, dilation),
                    3, ("dX", "dW", "db"))
    dX, dW, db = out
    if np.shape(dX) == (X.shape[0], X.shape[1], X.shape[2] + 2 * padding,
                        X.shape[3] + 2 * padding) and padding:
        fb.fail(f"dX has the shape of the padded input {np.shape(dX)}; the "
                "padding is not part of X, so cut it off at the end: dX has the "
                f"shape of X, {X.shape}.")
    fb.check_shape("dX", dX, X.shape, "dX has the shape of X.")
    fb.check_shape("dW", dW, W.shape, "dW has the shape of W.")
    fb.check_shape("db", db, (W.shape[0],), "db has one entry per filter, (F,).")
    return out


@pytest.mark.points(1)
def test_conv2d_backward__shapes_with_padding(ch10):
    X, W, b = _conv_case(4)
    dY = np.random.default_rng(41).normal(size=_out_shape(X, W, 1, 2))
    _backward(ch10, dY, X, W, 1, 2)


@pytest.mark.points(2)
def test_conv2d_backward__dW_sums_over_positions(ch10):
    X, W, b = _conv_case(5)
    dY = np.random.default_rng(51).normal(size=_out_shape(X, W, 1, 0))
    _, dW, _ = _backward(ch10, dY, X, W, 1, 0)
    _, want, _ = conv2d_grads(dY, X, W, b, 1, 0)
    fb.check_close("dW", dW, want, rtol=1e-6, atol=1e-8,
                   context="(compared with finite differences)",
                   hint="The kernel is shared by every position: dW[f] is the sum "
                        "over the batch and over all positions (i, j) of "
                        "dY[n, f, i, j] times the patch of Xp that position saw.")


@pytest.mark.points(2)
def test_conv2d_backward__db_sums_over_batch_and_positions(ch10):
    X, W, b = _conv_case(6)
    dY = np.random.default_rng(61).normal(size=_out_shape(X, W, 1, 1))
    _, _, db = _backward(ch10, dY, X, W, 1, 1)
    want = conv2d_db(dY, X, W, b, 1, 1)
    positions = dY.shape[2] * dY.shape[3]
    if np.allclose(db, want / positions):
        fb.fail("db averages over the positions; the same bias b[f] is added at "
                "every position, so its gradient is the sum of dY[n, f, i, j] over "
                "the batch and every position.")
    fb.check_close("db", db, want, rtol=1e-6, atol=1e-8,
                   context="(compared with finite differences)",
                   hint="db[f] = sum of dY[n, f, i, j] over n, i and j.")


@pytest.mark.points(2)
def test_conv2d_backward__dX_with_padding(ch10):
    X, W, b = _conv_case(7)
    dY = np.random.default_rng(71).normal(size=_out_shape(X, W, 1, 1))
    dX, _, _ = _backward(ch10, dY, X, W, 1, 1)
    want, _, _ = conv2d_grads(dY, X, W, b, 1, 1)
    fb.check_close("dX", dX, want, rtol=1e-6, atol=1e-8,
                   context="with padding 1 (compared with finite differences)",
                   hint="Every output entry sends dY[n, f, i, j] * W[f] back to the "
                        "patch of the padded input it read; the pixels of X collect "
                        "a sum, and the padding is cropped at the end.")


@pytest.mark.points(2)
def test_conv2d_backward__stride_two(ch10):
    X, W, b = _conv_case(8, H=7, W=7)
    dY = np.random.default_rng(81).normal(size=_out_shape(X, W, 2, 0))
    dX, dW, _ = _backward(ch10, dY, X, W, 2, 0)
    eX, eW, _ = conv2d_grads(dY, X, W, b, 2, 0)
    hint = ("With stride 2, output (i, j) read the patch starting at (2 i, 2 j): "
            "the backward must use the same positions as the forward.")
    fb.check_close("dW", dW, eW, rtol=1e-6, atol=1e-8, context="with stride 2",
                   hint=hint)
    fb.check_close("dX", dX, eX, rtol=1e-6, atol=1e-8, context="with stride 2",
                   hint=hint)


@pytest.mark.points(3)
def test_conv2d_backward__dilation(ch10):
    X, W, b = _conv_case(12, N=1, F=2, H=7, W=8)
    dY = np.random.default_rng(121).normal(size=_out_shape(X, W, 1, 1, 2))
    dX, dW, _ = _backward(ch10, dY, X, W, 1, 1, 2)
    eX, eW, _ = conv2d_grads(dY, X, W, b, 1, 1, 2)
    hint = ("With dilation 2, kernel entry (p, q) read the pixel (2 p, 2 q) away "
            "from a patch's corner: the backward must send the gradient to the "
            "same pixels.")
    fb.check_close("dW", dW, eW, rtol=1e-6, atol=1e-8, context="with dilation 2",
                   hint=hint)
    fb.check_close("dX", dX, eX, rtol=1e-6, atol=1e-8, context="with dilation 2",
                   hint=hint)


def _pool_case(seed, shape=(2, 3, 6, 6)):
    return np.random.default_rng(seed).normal(size=shape)


def _check_pool(ch10, X, size, stride, context):
    Y = maxpool2d_loops(X, size, stride if stride else size)
    dY = np.random.default_rng(int(X.size)).normal(size=Y.shape)
    got = fb.check_shape("dX", ch10.maxpool2d_backward(dY, X, size, stride),
                         X.shape, "dX has the shape of X.")
    want = maxpool2d_grad(dY, X, size, stride if stride else size)
    per_window = np.count_nonzero(got) / max(1, dY.size)
    if per_window > 1.5:
        fb.fail(f"dX has {np.count_nonzero(got)} non-zero entries for {dY.size} "
                f"windows {context}: only the entry that was the maximum of a window "
                "affected the output, so the window's gradient goes to that entry "
                "alone and the others get 0.")
    fb.check_close("dX", got, want, rtol=1e-6, atol=1e-8, context=context,
                   hint="dX is zero except at the position of each window's "
                        "maximum, which receives that window's dY.")


@pytest.mark.points(2)
def test_maxpool2d_backward__routes_to_the_maximum(ch10):
    _check_pool(ch10, _pool_case(9), 2, None, "for 2x2 windows (stride 2)")


@pytest.mark.points(2)
def test_maxpool2d_backward__overlapping_windows_add_up(ch10):
    _check_pool(ch10, _pool_case(10, (1, 2, 5, 6)), 3, 1,
                "for 3x3 windows with stride 1 (windows overlap)")
