"""Mistake: X @ W.T, which the shapes only allow for a square W."""


class Dense(Dense):
    def forward(self, X):
        self.X = X
        return X @ self.params["W"].T + self.params["b"]
