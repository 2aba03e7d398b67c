"""Mistake: far too few epochs at a small learning rate."""


def train_xor(seed=0):
    net = NeuralNetwork(2, 4, 1, learning_rate=0.1, seed=seed)
    net.train(XOR_X, XOR_Y, 50)
    return net
