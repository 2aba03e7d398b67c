"""Mistake: the gradients are computed but no parameter moves."""


class NeuralNetwork(NeuralNetwork):
    def backpropagate(self, X, y):
        y_hat = self.feedforward(X)
        backward(self.layers, self.loss.grad(y, y_hat))
        return self.loss.loss(y, y_hat)
