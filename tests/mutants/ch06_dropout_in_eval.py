"""Mistake: dropping units at test time too (ignoring training)."""


def dropout_forward(X, p, rng, training=True):
    mask = (rng.random(X.shape) >= p) / (1.0 - p)
    return X * mask, mask
