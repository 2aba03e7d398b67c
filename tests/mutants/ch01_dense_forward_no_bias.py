"""Mistake: the bias is left out of the forward pass."""


class Dense(Dense):
    def forward(self, X):
        self.X = X
        return X @ self.params["W"]
