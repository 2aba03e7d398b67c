"""Mistake: gradients of every batch are computed, but only the last one steps."""


def train(model, loss, optimizer, X, y, epochs, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        total = 0.0
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng):
            y_hat = model.forward(X_batch)
            total += loss.loss(y_batch, y_hat) * len(X_batch)
            model.backward(loss.grad(y_batch, y_hat))
        model.step(optimizer)
        history.append(total / len(X))
    return history
