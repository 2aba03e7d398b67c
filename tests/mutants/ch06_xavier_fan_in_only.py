"""Mistake: Xavier's bound from the fan-in only, sqrt(6 / (2 n_in))."""

import numpy as np


def xavier_init(n_in, n_out, rng):
    a = np.sqrt(6.0 / (2 * n_in))
    return rng.uniform(-a, a, size=(n_in, n_out))
