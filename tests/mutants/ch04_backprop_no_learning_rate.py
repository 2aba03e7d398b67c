"""Mistake: the step is the whole gradient, the learning rate forgotten."""


class NeuralNetwork(NeuralNetwork):
    def backpropagate(self, X, y):
        y_hat = self.feedforward(X)
        loss = self.loss.loss(y, y_hat)
        backward(self.layers, self.loss.grad(y, y_hat))
        for layer in self.layers:
            for key, param in layer.params.items():
                param -= layer.grads[key]
        return loss
