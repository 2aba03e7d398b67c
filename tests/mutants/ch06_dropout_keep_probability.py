"""Mistake: treating p as the probability of keeping an entry."""

import numpy as np


class Dropout(Dropout):  # noqa: F821 (the solution's class, defined above)
    def forward(self, X):
        X = np.asarray(X, dtype=float)
        if self.training:
            self.mask = (self.rng.random(X.shape) < self.p) / (1.0 - self.p)
        else:
            self.mask = np.ones_like(X)
        return X * self.mask
