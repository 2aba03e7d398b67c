"""Mistake: shuffling X and y with two separate permutations."""


def iterate_minibatches(X, y, batch_size, rng):
    order_x = rng.permutation(X.shape[0])
    order_y = rng.permutation(X.shape[0])
    for start in range(0, X.shape[0], batch_size):
        yield (X[order_x[start:start + batch_size]],
               y[order_y[start:start + batch_size]])
