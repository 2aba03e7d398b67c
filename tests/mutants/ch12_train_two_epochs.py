"""Mistake: training stopped after two epochs, far from a good reconstruction."""

import numpy as np


def train_autoencoder(X, n_code, seed=0):
    model = Autoencoder(X.shape[1], 32, n_code, seed)
    optimizer = Adam(0.01)
    rng = np.random.default_rng(seed)
    for _ in range(2):
        order = rng.permutation(len(X))
        for start in range(0, len(X), 64):
            Xb = X[order[start:start + 64]]
            model.backward(reconstruction_loss_grad(Xb, model.forward(Xb)))
            optimizer.step(model.params, model.grads)
    return model
