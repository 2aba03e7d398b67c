"""Mistake: returning what train returns (the list of losses), not the classifier."""


def train_digits(X, y, seed=0):
    X = np.asarray(X, dtype=float)
    mean, std = X.mean(axis=0), X.std(axis=0) + 1.0
    model = Sequential([Dense(64, 128, seed=seed), Tanh(),
                        Dense(128, 10, seed=seed + 1)])
    return train(model, SoftmaxCrossEntropy(), Adam(lr=0.003), (X - mean) / std, y,
                 epochs=30, batch_size=32, seed=seed)
