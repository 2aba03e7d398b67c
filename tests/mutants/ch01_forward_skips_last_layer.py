"""Mistake: an off-by-one loop that never runs the last layer."""


def forward(layers, X):
    out = X
    for i in range(len(layers) - 1):
        out = layers[i].forward(out)
    return out
