"""Mistake: the textbook sigmoid, which overflows for very negative z."""

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))
