"""Mistake: range(1, epochs), one epoch short."""


class NeuralNetwork(NeuralNetwork):
    def train(self, X, y, epochs):
        return [self.backpropagate(X, y) for _ in range(1, epochs)]
