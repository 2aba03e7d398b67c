"""Mistake: train returns only the last epoch's loss."""


class NeuralNetwork(NeuralNetwork):
    def train(self, X, y, epochs):
        loss = None
        for _ in range(epochs):
            loss = self.backpropagate(X, y)
        return loss
