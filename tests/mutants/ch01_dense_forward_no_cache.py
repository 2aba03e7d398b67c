"""Mistake: forward does not keep its input, so backward has no X to use."""


class Dense(Dense):
    def forward(self, X):
        return X @ self.params["W"] + self.params["b"]
