"""Mistake: the reconstruction loss summed over the entries instead of averaged."""

import numpy as np


def reconstruction_loss(X, X_hat):
    return float(np.sum((X_hat - X) ** 2))
