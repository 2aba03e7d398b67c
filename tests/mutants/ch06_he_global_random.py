"""Mistake: ignoring the rng argument and using numpy's global generator."""

import numpy as np


def he_init(n_in, n_out, rng):
    return np.random.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
