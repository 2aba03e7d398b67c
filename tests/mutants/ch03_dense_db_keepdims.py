"""Mistake: db summed with keepdims, shape (1, D_out) instead of (D_out,)."""


class Dense(Dense):
    def backward(self, dY):
        self.grads["W"] = self.X.T @ dY
        self.grads["b"] = dY.sum(axis=0, keepdims=True)
        return dY @ self.params["W"].T
