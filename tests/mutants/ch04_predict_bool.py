"""Mistake: predict returns booleans instead of 0/1 integers."""


def predict(params, X):
    A1 = _sigmoid(X @ params["W1"] + params["b1"])  # noqa: F821 (the chapter's own)
    return _sigmoid(A1 @ params["W2"] + params["b2"]) > 0.5  # noqa: F821
