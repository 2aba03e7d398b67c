"""Mistake: the gradients are not set to zero between epochs, so every step
uses the sum of all the gradients so far."""


def train_xor(epochs=300, lr=0.1, seed=0):
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    y = [0.0, 1.0, 1.0, 0.0]
    model = MLP([2, 4, 1], seed)  # noqa: F821 (the solution's class)
    for _ in range(epochs):
        loss = sum(((model(x)[0] - t) ** 2 for x, t in zip(X, y)),
                   Value(0.0))  # noqa: F821
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
    return model
