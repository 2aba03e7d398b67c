"""Mistake: a sigmoid hidden layer (the first edition's exercise) for the tanh one."""


class NeuralNetwork(NeuralNetwork):
    def __init__(self, input_size, hidden_size, output_size, learning_rate, seed=0):
        super().__init__(input_size, hidden_size, output_size, learning_rate, seed)
        self.layers[1] = Sigmoid()
