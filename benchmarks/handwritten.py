"""Plain numpy training loops: the baseline course_lib is measured against.

Each function trains the same network as the matching course_lib call, written the way
a careful person would write it by hand for exactly this one network: no layers, no
checks, no history. They share course_lib's initialisation (same seeds, same weights)
so that the comparisons also agree on the numbers they produce.
"""

from __future__ import annotations

import numpy as np


def xor_sgd(X, y, weights, lr, epochs):
    """2-4-1 sigmoid network, MSE, full-batch SGD. Returns the final loss.

    X (4, 2), y (4, 1); weights = [W1 (2, 4), b1 (4,), W2 (4, 1), b2 (1,)],
    updated in place.
    """
    W1, b1, W2, b2 = weights
    n = X.shape[0]
    for _ in range(epochs):
        A1 = 1.0 / (1.0 + np.exp(-(X @ W1 + b1)))
        y_hat = 1.0 / (1.0 + np.exp(-(A1 @ W2 + b2)))
        diff = y_hat - y
        dZ2 = (2.0 / n) * diff * y_hat * (1.0 - y_hat)
        dA1 = dZ2 @ W2.T
        dZ1 = dA1 * A1 * (1.0 - A1)
        W2 -= lr * (A1.T @ dZ2)
        b2 -= lr * dZ2.sum(axis=0)
        W1 -= lr * (X.T @ dZ1)
        b1 -= lr * dZ1.sum(axis=0)
    return float(np.mean(diff**2))


def _adam(params, grads, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    c1 = 1.0 - beta1**t
    c2 = 1.0 - beta2**t
    for p, g, mi, vi in zip(params, grads, m, v):
        mi *= beta1
        mi += (1.0 - beta1) * g
        vi *= beta2
        vi += (1.0 - beta2) * g * g
        p -= lr * (mi / c1) / (np.sqrt(vi / c2) + eps)


def mlp_relu_adam(X, y, weights, lr, epochs, batch_size, seed):
    """ReLU MLP with softmax cross-entropy on logits, Adam, shuffled mini-batches.

    X (N, D), y (N,) integer labels; weights = [W1, b1, W2, b2, ...] updated in place.
    """
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    n_layers = len(weights) // 2
    m = [np.zeros_like(w) for w in weights]
    v = [np.zeros_like(w) for w in weights]
    t = 0
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            xb, yb = X[idx], y[idx]
            acts = [xb]
            for k in range(n_layers):
                z = acts[-1] @ weights[2 * k] + weights[2 * k + 1]
                acts.append(np.maximum(z, 0.0) if k < n_layers - 1 else z)
            logits = acts[-1]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(yb)), yb] -= 1.0
            dz = p / len(yb)
            grads = [None] * len(weights)
            for k in range(n_layers - 1, -1, -1):
                grads[2 * k] = acts[k].T @ dz
                grads[2 * k + 1] = dz.sum(axis=0)
                if k:
                    dz = (dz @ weights[2 * k].T) * (acts[k] > 0)
            t += 1
            _adam(weights, grads, m, v, t, lr)


def mlp_predict(X, weights):
    """Labels from a ReLU MLP's logits. X (N, D) -> (N,)."""
    a = X
    n_layers = len(weights) // 2
    for k in range(n_layers):
        a = a @ weights[2 * k] + weights[2 * k + 1]
        if k < n_layers - 1:
            a = np.maximum(a, 0.0)
    return a.argmax(axis=1)


def mlp_relu_sgd_step(xb, yb, weights, lr):
    """One SGD step of a ReLU MLP with softmax cross-entropy (the wide benchmark)."""
    n_layers = len(weights) // 2
    acts = [xb]
    for k in range(n_layers):
        z = acts[-1] @ weights[2 * k] + weights[2 * k + 1]
        acts.append(np.maximum(z, 0.0) if k < n_layers - 1 else z)
    logits = acts[-1]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(yb)), yb] -= 1.0
    dz = p / len(yb)
    for k in range(n_layers - 1, -1, -1):
        dW = acts[k].T @ dz
        db = dz.sum(axis=0)
        if k:
            dz = (dz @ weights[2 * k].T) * (acts[k] > 0)
        weights[2 * k] -= lr * dW
        weights[2 * k + 1] -= lr * db
