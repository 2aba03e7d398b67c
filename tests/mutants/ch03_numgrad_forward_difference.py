"""Mistake: forward differences, whose error is O(h) instead of O(h^2)."""

import numpy as np


def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    f0 = f(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        grad[idx] = (f(x) - f0) / h
        x[idx] = old
    return grad
