"""Mistake: log of predictions without clipping (log(0) at 0 or 1)."""

import numpy as np


def binary_cross_entropy(y_true, y_pred, eps=1e-12):
    return float(-np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred)))
