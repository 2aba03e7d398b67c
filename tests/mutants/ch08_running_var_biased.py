"""Mistake: the running variance averages the biased batch variance."""

import numpy as np


class BatchNorm(BatchNorm):  # noqa: F821 (the solution's class, defined above)
    def forward(self, X):
        gamma, beta = self.params["gamma"], self.params["beta"]
        self.X = X
        if not self.training:
            shape = (1, -1) + (1,) * (X.ndim - 2)
            std = np.sqrt(self.running_var + self.eps).reshape(shape)
            centred = X - self.running_mean.reshape(shape)
            return gamma.reshape(shape) * centred / std + beta.reshape(shape)
        Y, mean, var = batch_norm(X, gamma, beta, self.eps)  # noqa: F821
        m = self.momentum
        self.running_mean = m * self.running_mean + (1 - m) * mean
        self.running_var = m * self.running_var + (1 - m) * var
        return Y
