"""Mistake: w += lr * grad, a step uphill."""


class NeuralNetwork(NeuralNetwork):
    def backpropagate(self, X, y):
        y_hat = self.feedforward(X)
        loss = self.loss.loss(y, y_hat)
        backward(self.layers, self.loss.grad(y, y_hat))
        for layer in self.layers:
            for key, param in layer.params.items():
                param += self.learning_rate * layer.grads[key]
        return loss
