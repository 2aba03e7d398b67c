"""Mistake: letting the gradient through at Z == 0 (Z >= 0)."""


def relu_backward(dA, Z):
    return dA * (Z >= 0)
