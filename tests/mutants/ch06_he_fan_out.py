"""Mistake: He initialisation scaled by the fan-out instead of the fan-in."""

import numpy as np


def he_init(n_in, n_out, rng):
    return rng.normal(0.0, np.sqrt(2.0 / n_out), size=(n_in, n_out))
