"""Mistake: the epoch's loss is the plain mean of the batch losses."""


def train(model, loss, optimizer, X, y, epochs, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        losses = []
        for X_batch, y_batch in iterate_minibatches(X, y, batch_size, rng):
            y_hat = model.forward(X_batch)
            losses.append(loss.loss(y_batch, y_hat))
            model.backward(loss.grad(y_batch, y_hat))
            model.step(optimizer)
        history.append(float(np.mean(losses)))
    return history
