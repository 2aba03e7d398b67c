"""Hostile: binary_cross_entropy allocates memory without bound.

The arrays are never written, so only the address-space limit stops it
(quickly) rather than the time limit.
"""

import numpy as np


def binary_cross_entropy(y_true, y_pred, eps=1e-12):
    hoard = []
    while True:
        hoard.append(np.empty(64 * 1024 * 1024, dtype=np.uint8))
