"""Mistake: dW = dZ.T @ X, the transpose of the right product."""


def dense_backward(dZ, X, W):
    return dZ @ W.T, dZ.T @ X, dZ.sum(axis=0)
