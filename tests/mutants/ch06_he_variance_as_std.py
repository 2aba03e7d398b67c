"""Mistake: He's variance 2 / n_in passed to rng.normal as the standard deviation."""


def he_init(n_in, n_out, rng):
    return rng.normal(0.0, 2.0 / n_in, size=(n_in, n_out))
