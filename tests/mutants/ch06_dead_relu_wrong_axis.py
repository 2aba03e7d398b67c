"""Mistake: testing rows (examples) instead of columns (units)."""

import numpy as np


def dead_relu_fraction(Z):
    return float(np.mean(np.all(Z <= 0, axis=1)))
