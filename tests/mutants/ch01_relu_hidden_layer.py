"""Mistake: a ReLU hidden layer where the exercise asks for a sigmoid."""

import numpy as np


def mlp_forward(X, params):
    A1 = np.maximum(X @ params["W1"] + params["b1"], 0.0)
    return sigmoid(A1 @ params["W2"] + params["b2"])  # noqa: F821 (the chapter's own)
