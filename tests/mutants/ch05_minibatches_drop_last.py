"""Mistake: dropping the last, incomplete batch."""


def iterate_minibatches(X, y, batch_size, rng):
    order = rng.permutation(X.shape[0])
    for start in range(0, X.shape[0] - batch_size + 1, batch_size):
        idx = order[start:start + batch_size]
        yield X[idx], y[idx]
