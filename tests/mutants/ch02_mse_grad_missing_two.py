"""Mistake: the derivative of the square loses its factor 2."""

import numpy as np


def mse_grad(y_true, y_pred):
    y_pred = np.asarray(y_pred, dtype=float)
    return (y_pred - y_true) / y_pred.size
