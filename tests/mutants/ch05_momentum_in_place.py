"""Mistake: momentum step that mutates w and velocity in place."""


def sgd_momentum_step(w, dw, velocity, lr, beta):
    velocity *= beta
    velocity -= lr * dw
    w += velocity
    return w, velocity
