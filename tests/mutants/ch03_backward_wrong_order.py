"""Mistake: the layers' backward passes run first to last."""


def backward(layers, dY):
    grad = dY
    for layer in layers:
        grad = layer.backward(grad)
    return grad
