"""Mistake: the update rebinds local names, so params never changes."""

import numpy as np


def train_step(params, X, y, lr):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    A1 = _sigmoid(X @ W1 + b1)  # noqa: F821 (the chapter's own)
    y_hat = _sigmoid(A1 @ W2 + b2)  # noqa: F821
    p = np.clip(y_hat, 1e-12, 1 - 1e-12)
    loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    dZ2 = (y_hat - y) / X.shape[0]
    dZ1 = (dZ2 @ W2.T) * A1 * (1 - A1)
    W1 = W1 - lr * (X.T @ dZ1)
    b1 = b1 - lr * dZ1.sum(axis=0)
    W2 = W2 - lr * (A1.T @ dZ2)
    b2 = b2 - lr * dZ2.sum(axis=0)
    return loss
