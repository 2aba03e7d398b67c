"""Mistake: the gradient forgets the 1/(N K) of the mean."""


def mse_grad(y_true, y_pred):
    return 2.0 * (y_pred - y_true)
