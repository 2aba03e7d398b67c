"""Mistake: normalising with the unbiased variance (dividing by M - 1)."""

import numpy as np


def batch_norm(X, gamma, beta, eps=1e-5):
    axes = (0, *range(2, X.ndim))
    shape = (1, -1) + (1,) * (X.ndim - 2)
    mu = X.mean(axis=axes, keepdims=True)
    var = X.var(axis=axes, keepdims=True, ddof=1)
    out = gamma.reshape(shape) * (X - mu) / np.sqrt(var + eps) + beta.reshape(shape)
    return out, mu.reshape(-1), var.reshape(-1)
