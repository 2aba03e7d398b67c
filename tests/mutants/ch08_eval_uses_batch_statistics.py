"""Mistake: evaluation mode normalises with the evaluation batch's statistics."""

import numpy as np


class BatchNorm(BatchNorm):  # noqa: F821 (the solution's class, defined above)
    def forward(self, X):
        gamma, beta = self.params["gamma"], self.params["beta"]
        self.X = X
        Y, mean, var = batch_norm(X, gamma, beta, self.eps)  # noqa: F821
        if self.training:
            n = X.size // X.shape[1]
            m = self.momentum
            self.running_mean = m * self.running_mean + (1 - m) * mean
            self.running_var = m * self.running_var + (1 - m) * var * n / (n - 1)
        return Y
