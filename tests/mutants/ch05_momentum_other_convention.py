"""Mistake: the other momentum convention (v = beta v + dw; w -= lr v)."""


def sgd_momentum_step(w, dw, velocity, lr, beta):
    velocity = beta * velocity + dw
    return w - lr * velocity, velocity
