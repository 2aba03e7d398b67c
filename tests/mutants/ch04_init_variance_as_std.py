"""Mistake: passing the Xavier variance to rng.normal, which wants a std."""

import numpy as np


def init_params(n_in, n_hidden, n_out, seed):
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(0.0, 2.0 / (n_in + n_hidden), size=(n_in, n_hidden)),
        "b1": np.zeros(n_hidden),
        "W2": rng.normal(0.0, 2.0 / (n_hidden + n_out), size=(n_hidden, n_out)),
        "b2": np.zeros(n_out),
    }
