"""Mistake: plain dropout, the kept entries are not rescaled by 1/(1-p)."""

import numpy as np


def dropout_forward(X, p, rng, training=True):
    if not training:
        return X.copy(), np.ones_like(X)
    mask = (rng.random(X.shape) >= p).astype(float)
    return X * mask, mask
