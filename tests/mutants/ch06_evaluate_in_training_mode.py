"""Mistake: evaluating in training mode (no model.eval(): dropout stays on)."""


def evaluate(model, loss, X, y):
    return float(loss.loss(y, model.forward(X)))
