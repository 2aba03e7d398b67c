"""Mistake: the loss is recomputed after the update and returned."""


class NeuralNetwork(NeuralNetwork):
    def backpropagate(self, X, y):
        y_hat = self.feedforward(X)
        backward(self.layers, self.loss.grad(y, y_hat))
        for layer in self.layers:
            for key, param in layer.params.items():
                param -= self.learning_rate * layer.grads[key]
        return self.loss.loss(y, self.feedforward(X))
