"""Mistake: the loss is a sum, not the batch mean."""

import numpy as np


def mse(y_true, y_pred):
    return float(np.sum((np.asarray(y_pred) - np.asarray(y_true)) ** 2))
