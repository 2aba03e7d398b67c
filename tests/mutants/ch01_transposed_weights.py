"""Mistake: multiplying by W.T (a wrong transpose of the weights)."""


def dense_forward(X, W, b):
    return X @ W.T + b
