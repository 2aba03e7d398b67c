"""What the engine's property tests share: hypothesis settings, a strict numpy."""

import contextlib
import warnings

import numpy as np
from hypothesis import HealthCheck, settings

#: reproducible, no deadline (CI is slow)
PROPERTY = settings(deadline=None, max_examples=40, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@contextlib.contextmanager
def strict_numpy():
    """Every warning, and every overflow, division by zero or invalid operation in
    numpy, raises inside the block (underflow is allowed: it is harmless)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield
