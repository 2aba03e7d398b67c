"""Mistake: the backward treats the batch statistics as constants (no mean and
variance terms): dX = gamma * dY / sqrt(var + eps)."""

import numpy as np


def batch_norm_backward(dY, X, gamma, eps=1e-5):
    axes = (0, *range(2, X.ndim))
    shape = (1, -1) + (1,) * (X.ndim - 2)
    mu = X.mean(axis=axes, keepdims=True)
    inv = 1.0 / np.sqrt(X.var(axis=axes, keepdims=True) + eps)
    x_hat = (X - mu) * inv
    dX = gamma.reshape(shape) * inv * dY
    return dX, (dY * x_hat).sum(axis=axes), dY.sum(axis=axes)
