"""Mistake: scaling by (1 - p) at evaluation as well, as plain dropout would."""

import numpy as np


class Dropout(Dropout):  # noqa: F821 (the solution's class, defined above)
    def forward(self, X):
        X = np.asarray(X, dtype=float)
        if self.training:
            self.mask = (self.rng.random(X.shape) >= self.p) / (1.0 - self.p)
        else:
            self.mask = np.full_like(X, 1.0 - self.p)
        return X * self.mask
