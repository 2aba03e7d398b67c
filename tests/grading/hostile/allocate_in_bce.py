"""Hostile: BinaryCrossEntropy.loss allocates memory without bound.

The arrays are never written, so only the address-space limit stops it
(quickly) rather than the time limit.
"""

import numpy as np


class BinaryCrossEntropy(BinaryCrossEntropy):  # noqa: F821 (the chapter's class)
    def loss(self, y_true, y_pred):
        hoard = []
        while True:
            hoard.append(np.empty(64 * 1024 * 1024, dtype=np.uint8))
