"""Mistake: dropping units in evaluation mode too (the training flag is ignored)."""

import numpy as np


class Dropout(Dropout):  # noqa: F821 (the solution's class, defined above)
    def forward(self, X):
        X = np.asarray(X, dtype=float)
        self.mask = (self.rng.random(X.shape) >= self.p) / (1.0 - self.p)
        return X * self.mask
