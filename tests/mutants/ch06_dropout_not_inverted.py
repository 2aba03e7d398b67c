"""Mistake: plain dropout, the kept entries are not rescaled by 1/(1-p)."""

import numpy as np


class Dropout(Dropout):  # noqa: F821 (the solution's class, defined above)
    def forward(self, X):
        X = np.asarray(X, dtype=float)
        if self.training:
            self.mask = (self.rng.random(X.shape) >= self.p).astype(float)
        else:
            self.mask = np.ones_like(X)
        return X * self.mask
