"""Mistake: clipping after the optimizer's step, when it no longer matters."""

import numpy as np


def train(model, loss, optimizer, X, y, epochs, batch_size, seed=0, clip=None):
    model.train()
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        total = 0.0
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng):  # noqa: F821
            y_hat = model.forward(X_batch)
            total += loss.loss(y_batch, y_hat) * len(X_batch)
            model.backward(loss.grad(y_batch, y_hat))
            model.step(optimizer)
            if clip is not None:
                clip_by_global_norm(model.grads, clip)  # noqa: F821
        history.append(total / len(X))
    return history
