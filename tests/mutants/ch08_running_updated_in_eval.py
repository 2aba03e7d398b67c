"""Mistake: the running averages are updated in evaluation mode as well."""

import numpy as np


class BatchNorm(BatchNorm):  # noqa: F821 (the solution's class, defined above)
    def forward(self, X):
        gamma, beta = self.params["gamma"], self.params["beta"]
        self.X = X
        Y, mean, var = batch_norm(X, gamma, beta, self.eps)  # noqa: F821
        n = X.size // X.shape[1]
        m = self.momentum
        self.running_mean = m * self.running_mean + (1 - m) * mean
        self.running_var = m * self.running_var + (1 - m) * var * n / (n - 1)
        if self.training:
            return Y
        shape = (1, -1) + (1,) * (X.ndim - 2)
        std = np.sqrt(self.running_var + self.eps).reshape(shape)
        centred = X - self.running_mean.reshape(shape)
        return gamma.reshape(shape) * centred / std + beta.reshape(shape)
