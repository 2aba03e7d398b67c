r"""Convolution and max pooling written as plain loops: the definitions, slowly.

These functions are the oracle of chapter 10 and of the engine's tests: every
output entry is computed from the formula, one multiply-add at a time, so they
are easy to check by eye and far too slow for training. ``cl.Conv2D`` and
``cl.MaxPool2D`` compute the same numbers with im2col and strided views.

The convolution of this course (and of PyTorch, TensorFlow and most libraries)
is a **cross-correlation**: the kernel is not flipped,

.. math::
    Y_{n,f,i,j} = b_f + \sum_{c,p,q} W_{f,c,p,q}\, X^{pad}_{n,c,\,s i + p,\,s j + q},

with stride :math:`s`, zero padding :math:`P` on every side and output size
:math:`H' = \lfloor (H + 2P - k)/s \rfloor + 1` (the same for the width).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "conv2d_backward_loops",
    "conv2d_forward_loops",
    "maxpool2d_backward_loops",
    "maxpool2d_forward_loops",
    "output_size",
]


def output_size(n, k, stride=1, padding=0):
    r"""Output length :math:`\lfloor (n + 2P - k)/s \rfloor + 1` of a sliding window.

    ``n`` input length, ``k`` window length, ``stride`` :math:`s`, ``padding``
    :math:`P` (zeros on each side).
    """
    return (n + 2 * padding - k) // stride + 1


def conv2d_forward_loops(X, W, b, stride=1, padding=0):
    """Cross-correlation by loops over every output entry.

    X (N, C, H, W_in), W (F, C, k, k), b (F,) -> Y (N, F, H', W').
    """
    N, C, H, W_in = X.shape
    F, _, k, _ = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = output_size(H, k, stride, padding), output_size(W_in, k, stride, padding)
    Y = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    r, c = i * stride, j * stride
                    patch = Xp[n, :, r:r + k, c:c + k]          # (C, k, k)
                    Y[n, f, i, j] = np.sum(patch * W[f]) + b[f]
    return Y


def conv2d_backward_loops(dY, X, W, stride=1, padding=0):
    r"""Gradients of :func:`conv2d_forward_loops`, again one output entry at a time.

    Each output entry :math:`Y_{n,f,i,j}` used the patch under the kernel: it
    sends :math:`dY_{n,f,i,j}` patch to :math:`dW_f` and
    :math:`dY_{n,f,i,j} W_f` back to that patch of :math:`dX`. The shared
    weights collect a sum over every position; the padding is cut off at the end.

    dY (N, F, H', W') -> dX (N, C, H, W_in), dW (F, C, k, k), db (F,).
    """
    N, C, H, W_in = X.shape
    F, _, k, _ = W.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dXp, dW = np.zeros(Xp.shape), np.zeros(W.shape)
    db = np.zeros(F)
    for n in range(N):
        for f in range(F):
            for i in range(dY.shape[2]):
                for j in range(dY.shape[3]):
                    r, c = i * stride, j * stride
                    g = dY[n, f, i, j]
                    dW[f] += g * Xp[n, :, r:r + k, c:c + k]
                    dXp[n, :, r:r + k, c:c + k] += g * W[f]
                    db[f] += g
    dX = dXp[:, :, padding:padding + H, padding:padding + W_in]
    return dX, dW, db


def maxpool2d_forward_loops(X, size, stride=None):
    """Max over each ``size x size`` window, by loops.

    X (N, C, H, W_in) -> Y (N, C, H', W'), ``stride`` defaults to ``size``.
    """
    stride = size if stride is None else stride
    N, C, H, W_in = X.shape
    Ho, Wo = output_size(H, size, stride), output_size(W_in, size, stride)
    Y = np.zeros((N, C, Ho, Wo))
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    r, q = i * stride, j * stride
                    Y[n, c, i, j] = X[n, c, r:r + size, q:q + size].max()
    return Y


def maxpool2d_backward_loops(dY, X, size, stride=None):
    """Gradient of :func:`maxpool2d_forward_loops`: each window's ``dY`` goes to
    the (first) position of its maximum; every other entry gets nothing.

    dY (N, C, H', W') -> dX (N, C, H, W_in).
    """
    stride = size if stride is None else stride
    dX = np.zeros(X.shape)
    N, C, Ho, Wo = dY.shape
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    r, q = i * stride, j * stride
                    window = X[n, c, r:r + size, q:q + size]
                    p, s = np.unravel_index(np.argmax(window), window.shape)
                    dX[n, c, r + p, q + s] += dY[n, c, i, j]
    return dX
