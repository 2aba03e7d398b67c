"""Mistake: the textbook formula, which overflows for very negative z."""


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))
