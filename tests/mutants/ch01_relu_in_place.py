"""Mistake: relu that overwrites its input (aliasing)."""


def relu(z):
    z[z < 0] = 0.0
    return z
