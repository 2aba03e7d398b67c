"""Mistake: max pooling's gradient sent to every entry of the window, not only
to the maximum."""

import numpy as np


def maxpool2d_backward(dY, X, size, stride=None):
    stride = size if stride is None else stride
    Ho, Wo = dY.shape[2], dY.shape[3]
    dX = np.zeros(X.shape)
    for p in range(size):
        for q in range(size):
            dX[:, :, p:p + stride * Ho:stride, q:q + stride * Wo:stride] += dY
    return dX
