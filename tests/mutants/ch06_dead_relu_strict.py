"""Mistake: Z < 0 instead of Z <= 0, missing units stuck at exactly 0."""

import numpy as np


def dead_relu_fraction(Z):
    return float(np.mean(np.all(Z < 0, axis=0)))
