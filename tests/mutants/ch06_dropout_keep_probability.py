"""Mistake: treating p as the probability of keeping an entry."""

import numpy as np


def dropout_forward(X, p, rng, training=True):
    if not training:
        return X.copy(), np.ones_like(X)
    mask = (rng.random(X.shape) < p) / (1.0 - p)
    return X * mask, mask
