"""Mistake: the gradient of the mean squared error without the 1 / (N D)."""


def reconstruction_loss_grad(X, X_hat):
    return 2.0 * (X_hat - X)
