"""Mistake: backprop of the summed squared error instead of the mean."""


def backprop_two_layer(X, y, params):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    A1 = _sigmoid(X @ W1 + b1)  # noqa: F821 (the chapter's own)
    y_hat = _sigmoid(A1 @ W2 + b2)  # noqa: F821
    dZ2 = 2.0 * (y_hat - y) * y_hat * (1 - y_hat)
    dZ1 = (dZ2 @ W2.T) * A1 * (1 - A1)
    return {"dW1": X.T @ dZ1, "db1": dZ1.sum(axis=0),
            "dW2": A1.T @ dZ2, "db2": dZ2.sum(axis=0)}
