"""Mistake: dgamma and dbeta summed over the feature axis instead of the batch."""

import numpy as np


def batch_norm_backward(dY, X, gamma, eps=1e-5):
    axes = (0, *range(2, X.ndim))
    shape = (1, -1) + (1,) * (X.ndim - 2)
    M = X.size // X.shape[1]
    mu = X.mean(axis=axes, keepdims=True)
    inv = 1.0 / np.sqrt(X.var(axis=axes, keepdims=True) + eps)
    x_hat = (X - mu) * inv
    dbeta = dY.sum(axis=axes, keepdims=True)
    dgamma = (dY * x_hat).sum(axis=axes, keepdims=True)
    dX = gamma.reshape(shape) * inv / M * (M * dY - dbeta - x_hat * dgamma)
    return dX, (dY * x_hat).sum(axis=1), dY.sum(axis=1)
