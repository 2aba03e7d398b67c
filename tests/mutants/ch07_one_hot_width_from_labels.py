"""Mistake: the width of the encoding taken from y.max() + 1, not n_classes."""

import numpy as np


def one_hot(y, n_classes):
    return np.eye(int(np.max(y)) + 1)[y]
