"""Mistake: returning the loss after the update instead of before it."""

import numpy as np


def train_step(params, X, y, lr):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    A1 = _sigmoid(X @ W1 + b1)  # noqa: F821 (the chapter's own)
    y_hat = _sigmoid(A1 @ W2 + b2)  # noqa: F821
    dZ2 = (y_hat - y) / X.shape[0]
    dZ1 = (dZ2 @ W2.T) * A1 * (1 - A1)
    params["W1"] = W1 - lr * (X.T @ dZ1)
    params["b1"] = b1 - lr * dZ1.sum(axis=0)
    params["W2"] = W2 - lr * (A1.T @ dZ2)
    params["b2"] = b2 - lr * dZ2.sum(axis=0)
    A1 = _sigmoid(X @ params["W1"] + params["b1"])  # noqa: F821
    p = np.clip(_sigmoid(A1 @ params["W2"] + params["b2"]), 1e-12, 1 - 1e-12)  # noqa: F821
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
