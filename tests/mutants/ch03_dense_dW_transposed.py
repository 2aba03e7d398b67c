"""Mistake: dW = dY^T X, the transpose of the right product."""


class Dense(Dense):
    def backward(self, dY):
        self.grads["W"] = dY.T @ self.X
        self.grads["b"] = dY.sum(axis=0)
        return dY @ self.params["W"].T
