"""Mistake: the number of correct predictions instead of the fraction."""

import numpy as np


def accuracy(y_true, y_pred):
    return float(np.sum(np.asarray(y_true) == np.asarray(y_pred)))
