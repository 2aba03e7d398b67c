"""Independent oracles and settings shared by the engine tests (tests/package).

The finite-difference oracle here is deliberately separate from
``course_lib.numerical_gradient`` so that a bug there cannot hide a bug elsewhere.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings

#: hypothesis settings for the engine tests: reproducible, no deadline (CI is slow)
PROPERTY = settings(deadline=None, max_examples=40, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

#: the float64 gradient-check bar of the course
GRAD_TOL = 1e-7


def numeric_grad(f, x, h=1e-5):
    """Centred differences of the scalar ``f`` at a float64 copy of ``x``."""
    x = np.array(x, dtype=np.float64)
    grad = np.empty_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = f(x)
        flat[i] = old - h
        f_minus = f(x)
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_err(a, b):
    """``max |a - b| / max(|a| + |b|)`` (the course's definition)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a) + np.abs(b)), 1e-300))
