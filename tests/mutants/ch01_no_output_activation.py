"""Mistake: forgetting the sigmoid after the output layer."""


def mlp_forward(X, params):
    A1 = sigmoid(X @ params["W1"] + params["b1"])  # noqa: F821 (the chapter's own)
    return A1 @ params["W2"] + params["b2"]
